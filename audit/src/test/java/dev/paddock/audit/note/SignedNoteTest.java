package dev.paddock.audit.note;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.paddock.audit.merkle.Rfc6962;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.Test;

class SignedNoteTest {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** The example of Go's golang.org/x/mod/sumdb/note documentation: a note Go signed opens here. */
  @Test
  void opensANoteSignedByGo() throws Exception {
    NoteVerifier verifier = NoteVerifier.parse("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
    String note = "If you think cryptography is the answer to your problem,\n"
        + "then you don't know what your problem is.\n"
        + "\n"
        + "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    assertThat(verifier.open(note)).startsWith("If you think").endsWith("problem is.\n");
    assertThatThrownBy(() -> verifier.open(note.replace("cryptography", "cryptographY")))
        .isInstanceOf(NoteException.class).hasMessageContaining("does not verify");
  }

  @Test
  void signsAndOpensACheckpoint() throws Exception {
    NoteSigner signer = NoteSigner.generate("host-1/paddock-audit", RANDOM);
    Checkpoint checkpoint = new Checkpoint("host-1/paddock-audit", 42, Rfc6962.leafHash(new byte[] {1}), List.of());
    String note = signer.sign(checkpoint.text());
    assertThat(note).startsWith("host-1/paddock-audit\n42\n").contains("\n\n\u2014 host-1/paddock-audit ");

    NoteVerifier verifier = NoteVerifier.parse(signer.verifierKey());
    assertThat(Checkpoint.parse(verifier.open(note))).isEqualTo(checkpoint);
    // The secret form reads back to the same key.
    assertThat(NoteSigner.parse(signer.signerKey()).verifierKey()).isEqualTo(signer.verifierKey());
  }

  @Test
  void aCheckpointSignedByAnotherKeyIsRejected() throws Exception {
    NoteSigner ours = NoteSigner.generate("paddock", RANDOM);
    NoteSigner theirs = NoteSigner.generate("paddock", RANDOM);
    String note = theirs.sign(new Checkpoint("paddock", 1, Rfc6962.emptyRoot(), List.of()).text());
    assertThatThrownBy(() -> NoteVerifier.parse(ours.verifierKey()).open(note))
        .isInstanceOf(NoteException.class).hasMessageContaining("no signature by paddock+");
    // Their signature relabelled with our key hash: the hash matches, the signature does not.
    String line = note.substring(note.indexOf('\u2014'));
    byte[] sig = java.util.Base64.getDecoder().decode(line.substring(line.lastIndexOf(' ') + 1).trim());
    int ourHash = NoteVerifier.parse(ours.verifierKey()).keyHash();
    sig[0] = (byte) (ourHash >>> 24);
    sig[1] = (byte) (ourHash >>> 16);
    sig[2] = (byte) (ourHash >>> 8);
    sig[3] = (byte) ourHash;
    String forged = note.substring(0, note.indexOf('\u2014')) + "\u2014 paddock " + java.util.Base64.getEncoder().encodeToString(sig) + "\n";
    assertThatThrownBy(() -> NoteVerifier.parse(ours.verifierKey()).open(forged))
        .isInstanceOf(NoteException.class).hasMessageContaining("does not verify");
  }

  @Test
  void malformedNotesAndKeysAreRefusedWithoutQuotingKeys() throws Exception {
    NoteSigner signer = NoteSigner.generate("paddock", RANDOM);
    NoteVerifier verifier = NoteVerifier.parse(signer.verifierKey());
    String note = signer.sign("a\nb\n");
    assertThatThrownBy(() -> verifier.open(note.replace("\n\n", "\n"))).hasMessageContaining("blank line");
    assertThatThrownBy(() -> verifier.open(note.replace("\u2014 ", "- "))).hasMessageContaining("em dash");
    assertThatThrownBy(() -> verifier.open(note + "x")).hasMessageContaining("end in a newline");
    assertThatThrownBy(() -> verifier.open("a\tb\n\n" + note.substring(note.indexOf('\u2014'))))
        .hasMessageContaining("control character");
    assertThatThrownBy(() -> signer.sign("no newline")).isInstanceOf(NoteException.class);
    String secret = signer.signerKey();
    String broken = secret.substring(0, secret.length() - 4) + "AAA=";
    assertThatThrownBy(() -> NoteSigner.parse(broken)).isInstanceOf(NoteException.class)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(secret.split("\\+", 5)[4].substring(0, 20)));
    String vkey = signer.verifierKey();
    assertThatThrownBy(() -> NoteVerifier.parse(vkey.replaceFirst("\\+[0-9a-f]{8}\\+", "+00000000+")))
        .hasMessageContaining("hash does not match");
    assertThatThrownBy(() -> NoteVerifier.parse("pad dock+00000000+AA==")).isInstanceOf(NoteException.class);
  }

  @Test
  void checkpointTextIsStrict() {
    assertThatThrownBy(() -> Checkpoint.parse("origin\n007\n" + java.util.Base64.getEncoder().encodeToString(new byte[32]) + "\n"))
        .hasMessageContaining("leading zeros");
    assertThatThrownBy(() -> Checkpoint.parse("origin\n7\nAAAA\n")).hasMessageContaining("not 32");
    assertThatThrownBy(() -> Checkpoint.parse("origin\n7\n")).isInstanceOf(NoteException.class);
  }
}
