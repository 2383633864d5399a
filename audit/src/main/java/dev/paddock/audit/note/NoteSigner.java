package dev.paddock.audit.note;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * Signs texts as C2SP signed-notes with one Ed25519 key. Its secret form is the signed-note
 * signer-key text {@code PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>}, the form Go's
 * {@code note.NewSigner} reads; {@link #verifierKey()} is the public form an auditor is given.
 */
public final class NoteSigner {
  private static final String PRIVATE_PREFIX = "PRIVATE+KEY+";

  private final String name;
  private final Ed25519PrivateKeyParameters key;
  private final byte[] algAndPublicKey;
  private final int keyHash;

  private NoteSigner(String name, Ed25519PrivateKeyParameters key) {
    this.name = name;
    this.key = key;
    byte[] pub = key.generatePublicKey().getEncoded();
    algAndPublicKey = new byte[1 + pub.length];
    algAndPublicKey[0] = NoteKeys.ALG_ED25519;
    System.arraycopy(pub, 0, algAndPublicKey, 1, pub.length);
    keyHash = NoteKeys.keyHash(name, algAndPublicKey);
  }

  /** A new random key named {@code name}. */
  public static NoteSigner generate(String name, SecureRandom random) {
    if (!NoteKeys.validName(name)) {
      throw new IllegalArgumentException("a key name must be non-empty, without spaces or '+'");
    }
    return new NoteSigner(name, new Ed25519PrivateKeyParameters(random));
  }

  /** Reads the signer-key text form; the message of a failure never quotes the key. */
  public static NoteSigner parse(String signerKey) throws NoteException {
    String text = signerKey.strip();
    if (!text.startsWith(PRIVATE_PREFIX)) {
      throw new NoteException("not a signer key (it must start with " + PRIVATE_PREFIX + ")");
    }
    NoteKeys.KeyText key = NoteKeys.parseKeyText(text.substring(PRIVATE_PREFIX.length()),
        Ed25519PrivateKeyParameters.KEY_SIZE, "signer key");
    NoteSigner signer = new NoteSigner(key.name(), new Ed25519PrivateKeyParameters(key.algAndKey(), 1));
    if (signer.keyHash != key.hash()) {
      throw new NoteException("the signer key's hash does not match its name and key");
    }
    return signer;
  }

  /** The secret signer-key text; store it 0600 and never log it. */
  public String signerKey() {
    byte[] data = new byte[1 + Ed25519PrivateKeyParameters.KEY_SIZE];
    data[0] = NoteKeys.ALG_ED25519;
    key.encode(data, 1);
    return PRIVATE_PREFIX + name + "+" + String.format("%08x", keyHash) + "+" + Base64.getEncoder().encodeToString(data);
  }

  /** The public verifier-key text {@code <name>+<hash>+<base64(0x01 || public key)>}. */
  public String verifierKey() {
    return name + "+" + String.format("%08x", keyHash) + "+" + Base64.getEncoder().encodeToString(algAndPublicKey);
  }

  public String name() {
    return name;
  }

  /** The key's public half (32 bytes). */
  public Ed25519PublicKeyParameters publicKey() {
    return key.generatePublicKey();
  }

  /**
   * Signs {@code text} (non-empty, ending in a newline, no control character but newlines) and
   * returns the whole note: the text, a blank line, and this key's signature line.
   */
  public String sign(String text) throws NoteException {
    SignedNote.checkText(text);
    byte[] message = text.getBytes(StandardCharsets.UTF_8);
    Ed25519Signer signer = new Ed25519Signer();
    signer.init(true, key);
    signer.update(message, 0, message.length);
    byte[] signature = signer.generateSignature();
    byte[] sig = new byte[4 + signature.length];
    sig[0] = (byte) (keyHash >>> 24);
    sig[1] = (byte) (keyHash >>> 16);
    sig[2] = (byte) (keyHash >>> 8);
    sig[3] = (byte) keyHash;
    System.arraycopy(signature, 0, sig, 4, signature.length);
    return text + "\n" + SignedNote.SIGNATURE_PREFIX + name + " " + Base64.getEncoder().encodeToString(sig) + "\n";
  }
}
