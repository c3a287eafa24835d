package wire

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/; the f.Add calls below
// add a few more so plain `go test` covers the interesting shapes.

func FuzzReadPacket(f *testing.F) {
	var b bytes.Buffer
	_ = WritePacket(&b, Packet{Command: CmdCNXN, Arg0: VersionSkipChecksum, Arg1: MaxPayload, Data: []byte("host::features=shell_v2")}, true)
	f.Add(b.Bytes(), uint32(MaxPayload))
	b.Reset()
	_ = WritePacket(&b, Packet{Command: CmdWRTE, Arg0: 1, Arg1: 2, Data: []byte("hello")}, false)
	f.Add(b.Bytes(), uint32(4))
	f.Add([]byte("CNXN\x00\x00\x00\x01"), uint32(4096))
	f.Fuzz(func(t *testing.T, in []byte, maxData uint32) {
		maxData %= 1 << 20
		r := bytes.NewReader(in)
		for {
			p, err := ReadPacket(r, maxData, len(in)%2 == 0)
			if err != nil {
				if errors.Is(err, io.EOF) && r.Len() != 0 {
					t.Fatalf("EOF with %d bytes left", r.Len())
				}
				return
			}
			if uint32(len(p.Data)) > maxData {
				t.Fatalf("data of %d bytes above limit %d", len(p.Data), maxData)
			}
			var out bytes.Buffer
			if err := WritePacket(&out, p, true); err != nil {
				t.Fatal(err)
			}
			q, err := ReadPacket(&out, maxData, true)
			if err != nil || q.Command != p.Command || q.Arg0 != p.Arg0 || q.Arg1 != p.Arg1 || !bytes.Equal(q.Data, p.Data) {
				t.Fatalf("round trip: %v %v %v", p, q, err)
			}
		}
	})
}

func FuzzShellReader(f *testing.F) {
	var b bytes.Buffer
	w := NewShellWriter(&b, 3)
	_ = w.WriteFrame(ShellStdout, []byte("hello world"))
	_ = w.WriteFrame(ShellStderr, []byte("oops"))
	_ = w.WriteFrame(ShellExit, []byte{1})
	f.Add(b.Bytes(), 4)
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 'x'}, 16)
	f.Add([]byte{4, 0, 0, 0, 0}, 0)
	f.Fuzz(func(t *testing.T, in []byte, bufSize int) {
		// Tiny pieces of huge inputs only make the fuzzer slow.
		bufSize = 16 + int(uint(bufSize)%1024)
		if len(in) > 1<<12 {
			in = in[:1<<12]
		}
		rd := NewShellReader(bytes.NewReader(in), bufSize)
		total := 0
		for {
			_, data, err := rd.Next()
			if err != nil {
				break
			}
			if len(data) > bufSize {
				t.Fatalf("piece of %d bytes above buffer %d", len(data), bufSize)
			}
			total += len(data)
			if total > len(in) {
				t.Fatalf("decoded %d data bytes from %d input bytes", total, len(in))
			}
		}
		// Writer → reader round trip of the same bytes as stdout.
		var out bytes.Buffer
		if err := NewShellWriter(&out, bufSize).WriteFrame(ShellStdout, in); err != nil {
			t.Fatal(err)
		}
		var got []byte
		rd = NewShellReader(&out, 0)
		for {
			id, data, err := rd.Next()
			if err != nil {
				break
			}
			if id != ShellStdout {
				t.Fatalf("id %d", id)
			}
			got = append(got, data...)
		}
		if !bytes.Equal(got, in) {
			t.Fatal("round trip differs")
		}
	})
}

// FuzzReadSyncRequest decodes host → device sync traffic.
func FuzzReadSyncRequest(f *testing.F) {
	f.Add(AppendSyncMsg(AppendSyncMsg(nil, SyncSTA2, 7, []byte("/sdcard")), SyncQUIT, 0, nil))
	send := AppendSyncMsg(nil, SyncSEND, 14, []byte("/sdcard/x,33188"))
	send = AppendSyncMsg(send, SyncDATA, 3, []byte("abc"))
	send = AppendSyncMsg(send, SyncDONE, 1700000000, nil)
	f.Add(send)
	f.Add(AppendSyncMsg(nil, SyncDATA, 0xffffffff, nil))
	f.Add(AppendSyncMsg(nil, SyncRECV, 5000, nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		for {
			req, err := ReadSyncRequest(r)
			if err != nil {
				return
			}
			if len(req.Data) > SyncDataMax {
				t.Fatalf("%s with %d bytes", req.ID, len(req.Data))
			}
		}
	})
}

// FuzzSyncReplies decodes device → host sync traffic with every client
// decoder.
func FuzzSyncReplies(f *testing.F) {
	fi := FileInfo{Name: "a.txt", Mode: 0o644, Size: 3}
	f.Add(AppendStat2(nil, SyncSTA2, 0, fi), uint8(0))
	f.Add(AppendStat1(nil, fi), uint8(1))
	f.Add(AppendListDone(AppendDent2(nil, fi), true), uint8(2))
	f.Add(AppendListDone(AppendDent1(nil, fi), false), uint8(3))
	data := AppendSyncMsg(nil, SyncDATA, 3, []byte("abc"))
	f.Add(AppendSyncMsg(data, SyncDONE, 0, nil), uint8(4))
	f.Add(AppendSyncMsg(nil, SyncFAIL, 4, []byte("nope")), uint8(4))
	f.Add(AppendSyncMsg(nil, SyncFAIL, 0xfffffff0, nil), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, which uint8) {
		r := bytes.NewReader(in)
		var buf []byte
		for range 1000 {
			var err error
			switch which % 5 {
			case 0:
				_, err = ReadStat(r, true)
			case 1:
				_, err = ReadStat(r, false)
			case 2:
				var fi FileInfo
				fi, err = ReadDent(r, true)
				if len(fi.Name) > syncNameMax {
					t.Fatalf("name of %d bytes", len(fi.Name))
				}
			case 3:
				_, err = ReadDent(r, false)
			case 4:
				var d []byte
				_, d, err = ReadSyncReply(r, buf)
				if len(d) > SyncDataMax {
					t.Fatalf("DATA of %d bytes", len(d))
				}
				buf = d
			}
			if err != nil && r.Len() == 0 {
				return
			}
			if err != nil && !errors.Is(err, io.EOF) {
				var fail *SyncFailError
				var errno Errno
				if !errors.As(err, &fail) && !errors.As(err, &errno) && !errors.Is(err, ErrSyncProtocol) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
		}
	})
}

func FuzzParsePublicKey(f *testing.F) {
	f.Add([]byte("QAAAAA== user@host"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, in []byte) {
		k, _, err := ParsePublicKey(in)
		if err == nil && k.N.BitLen() > KeyBits {
			t.Fatalf("modulus of %d bits", k.N.BitLen())
		}
	})
}

func FuzzParseBanner(f *testing.F) {
	f.Add("device::ro.product.name=a;ro.product.model=b;ro.product.device=c;features=shell_v2,cmd")
	f.Fuzz(func(t *testing.T, s string) {
		b := ParseBanner(s)
		_ = b.String()
	})
}
