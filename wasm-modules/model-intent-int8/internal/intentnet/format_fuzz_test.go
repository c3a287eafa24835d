package intentnet_test

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"testing"

	"github.com/openautoglm/cloudphone/wasm-modules/model-intent-int8/internal/intentnet"
)

// FuzzDecode: any bytes with a valid checksum decode to an error or a
// model that predicts without a panic.
func FuzzDecode(f *testing.F) {
	b, err := os.ReadFile("../../weights.bin")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b[:len(b)-4])
	f.Add(b[:200])
	f.Add([]byte("CPIM\x01\x00\x01"))
	f.Fuzz(func(t *testing.T, body []byte) {
		data := binary.LittleEndian.AppendUint32(append([]byte(nil), body...), crc32.ChecksumIEEE(body))
		m, err := intentnet.Decode(data)
		if err != nil {
			return
		}
		_ = m.Predict("打开微信然后给张三发消息说你好")
	})
}
