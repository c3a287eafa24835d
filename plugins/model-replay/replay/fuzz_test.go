package replay

import (
	"bytes"
	"testing"
)

// FuzzParse checks that no cassette content panics the reader, and that
// what it accepts re-encodes to lines it accepts again with the same keys.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"request":{"messages":[{"role":"user","parts":[{"text":"打开设置"},{"image":"sha256:` +
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" + `"},{}]}],"params":{"temperature":0}},"reply":"<answer>x</answer>"}` + "\n"))
	f.Add([]byte("\n\n{\"key\":\"\"}\n"))
	f.Add([]byte("{\"request\":{\"messages\":[{\"role\":\"\\ud800\",\"parts\":[]}]},\"reply\":\"\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := parse(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		var out []byte
		for _, e := range entries {
			line, err := e.encode()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, line...)
		}
		again, err := parse(bytes.NewReader(out), "again")
		if err != nil {
			t.Fatalf("re-encoded cassette refused: %v\n%s", err, out)
		}
		for i := range entries {
			if again[i].key != entries[i].key {
				t.Fatalf("entry %d: key changed on re-encoding", i)
			}
		}
	})
}
