package dev.paddock.audit.note;

import java.nio.charset.StandardCharsets;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * Verifies signed-notes against one Ed25519 verifier key, given in the signed-note text form
 * {@code <name>+<hash>+<base64(0x01 || public key)>} (what {@code paddock audit public-key} prints
 * and Go's {@code note.NewVerifier} reads).
 */
public final class NoteVerifier {
  private final String name;
  private final int keyHash;
  private final Ed25519PublicKeyParameters key;

  private NoteVerifier(String name, int keyHash, Ed25519PublicKeyParameters key) {
    this.name = name;
    this.keyHash = keyHash;
    this.key = key;
  }

  /** Reads a verifier key; refuses one whose hash does not match its name and key. */
  public static NoteVerifier parse(String verifierKey) throws NoteException {
    NoteKeys.KeyText key = NoteKeys.parseKeyText(verifierKey.strip(), Ed25519PublicKeyParameters.KEY_SIZE, "verifier key");
    if (key.hash() != NoteKeys.keyHash(key.name(), key.algAndKey())) {
      throw new NoteException("the verifier key's hash does not match its name and key");
    }
    return new NoteVerifier(key.name(), key.hash(), new Ed25519PublicKeyParameters(key.algAndKey(), 1));
  }

  public String name() {
    return name;
  }

  public int keyHash() {
    return keyHash;
  }

  /**
   * Opens {@code note}: returns its text when it carries a valid signature by this key. A note with
   * no signature by this key, or with one that does not verify, is refused.
   */
  public String open(String note) throws NoteException {
    SignedNote parsed = SignedNote.parse(note);
    boolean signed = false;
    for (SignedNote.Signature sig : parsed.signatures()) {
      if (!sig.name().equals(name) || sig.keyHash() != keyHash) {
        continue; // another key's signature: not ours to judge
      }
      if (!verifies(parsed.text(), sig.signature())) {
        throw new NoteException("the signature by " + name + " does not verify");
      }
      signed = true;
    }
    if (!signed) {
      throw new NoteException("the note carries no signature by " + name + "+" + String.format("%08x", keyHash));
    }
    return parsed.text();
  }

  private boolean verifies(String text, byte[] signature) {
    byte[] message = text.getBytes(StandardCharsets.UTF_8);
    Ed25519Signer verifier = new Ed25519Signer();
    verifier.init(false, key);
    verifier.update(message, 0, message.length);
    return verifier.verifySignature(signature);
  }
}
