// Package wire holds the adb wire formats shared by the client (sdk/adb)
// and the device side (sdk/adb/adbd):
//
//   - Packet, ReadPacket, WritePacket: the 24-byte little-endian header
//     (command, arg0, arg1, data length, byte-sum checksum, magic) and
//     its data. Decoding is strict: bad magic, data above the negotiated
//     limit and truncation are errors; nothing above the limit is
//     allocated.
//   - Banner: the CNXN identity ("device::ro.product.name=…;features=…").
//   - Keys: adb's RSA key files (PKCS#8 PEM adbkey, the base64
//     RSAPublicKey struct of adbkey.pub) and AUTH token signatures
//     (PKCS#1 v1.5 with the SHA-1 prefix over the raw 20-byte token).
//   - ShellReader/ShellWriter: shell_v2 frames (id byte, 4-byte length).
//   - ReadSyncRequest and the Append*/Read* functions: the sync: protocol
//     in both directions (STAT/STA2/LST2, LIST/LIS2, SEND, RECV, DATA,
//     DONE, OKAY, FAIL, QUIT).
//
// It does no I/O of its own beyond the io.Reader/io.Writer it is given and
// holds no state; it is what the fuzz tests exercise.
package wire
