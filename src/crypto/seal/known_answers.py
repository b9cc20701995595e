# The known answers of tests.rs, computed from the spec in docs/encryption.md ("Files
# and streams: the offload STREAM format") with pyca/cryptography (48.0 used), independently of
# the Rust code. Run: python3 src/crypto/seal/known_answers.py
import hashlib
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

def seal(alg_id, key, salt, log2, pt):
    header = b"OFLDSTRM" + bytes([1, alg_id, log2]) + salt
    klen = 16 if alg_id == 2 else 32
    fk = HKDF(algorithm=hashes.SHA256(), length=klen, salt=salt, info=header[:11]).derive(key)
    aead = ChaCha20Poly1305(fk) if alg_id == 3 else AESGCM(fk)
    size = 1 << log2
    segs = [pt[i:i + size] for i in range(0, len(pt), size)] or [b""]
    out = header
    for i, s in enumerate(segs):
        nonce = i.to_bytes(11, "big") + bytes([1 if i == len(segs) - 1 else 0])
        out += aead.encrypt(nonce, s, None)
    return out

salt = bytes(range(0x40, 0x60))
pt = bytes(i % 251 for i in range(2500))
for alg_id, klen in ((1, 32), (2, 16), (3, 32)):
    key = bytes(range(klen))
    e = seal(alg_id, key, salt, 10, b"")
    print(alg_id, "empty", e.hex())
    o = seal(alg_id, key, salt, 10, pt)
    print(alg_id, "2500", len(o), hashlib.sha256(o).hexdigest(), o[-16:].hex())
