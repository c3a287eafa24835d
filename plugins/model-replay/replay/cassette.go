package replay

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openautoglm/cloudphone/core/cache/reqkey"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Entry is one line of a cassette: a request and the reply it got.
type Entry struct {
	// Key is reqkey.Sum("", "", request) in hex; recomputed when absent.
	Key string `json:"key,omitempty"`
	// Time is when the reply was recorded.
	Time    time.Time `json:"time,omitzero"`
	Request Summary   `json:"request"`
	// Reply is the whole reply text.
	Reply        string `json:"reply"`
	FinishReason string `json:"finish_reason,omitempty"`
	Usage        Usage  `json:"usage,omitzero"`

	// line is where the entry was read (1-based); key is Key parsed.
	line int
	key  reqkey.Key
}

// Usage is a recorded reply's token counts.
type Usage struct {
	PromptTokens     int32 `json:"prompt_tokens,omitempty"`
	CompletionTokens int32 `json:"completion_tokens,omitempty"`
}

// Summary is a request as a cassette keeps it: everything its key covers,
// with images as digests.
type Summary struct {
	Model    string    `json:"model,omitempty"`
	Messages []Message `json:"messages"`
	Params   *Params   `json:"params,omitempty"`
}

// Message is one chat message of a Summary.
type Message struct {
	Role  string `json:"role"`
	Parts []Part `json:"parts"`
}

// Part is a text, an image digest ("sha256:<hex>"), or neither.
type Part struct {
	Text  *string `json:"text,omitempty"`
	Image string  `json:"image,omitempty"`
}

// Params are the sampling parameters as sent.
type Params struct {
	MaxTokens        int32    `json:"max_tokens,omitempty"`
	Temperature      *float32 `json:"temperature,omitempty"`
	TopP             *float32 `json:"top_p,omitempty"`
	FrequencyPenalty *float32 `json:"frequency_penalty,omitempty"`
	Stop             []string `json:"stop,omitempty"`
}

const imagePrefix = "sha256:"

// Summarize returns the summary of req. Strings that are not valid UTF-8
// (which JSON cannot carry) have their bad bytes replaced by U+FFFD, so
// that a request's key and its recorded line's key always agree; for
// valid UTF-8, Summarize(req).Key() is reqkey.Sum("", "", req).
func Summarize(req *cpv1.InferRequest) Summary {
	s := Summary{Model: valid(req.GetModel()), Messages: make([]Message, 0, len(req.GetMessages()))}
	for _, m := range req.GetMessages() {
		msg := Message{Role: valid(m.GetRole()), Parts: make([]Part, 0, len(m.GetContent()))}
		for _, p := range m.GetContent() {
			switch v := p.GetPart().(type) {
			case *cpv1.ContentPart_Text:
				t := valid(v.Text)
				msg.Parts = append(msg.Parts, Part{Text: &t})
			case *cpv1.ContentPart_ImagePng:
				d := sha256.Sum256(v.ImagePng)
				msg.Parts = append(msg.Parts, Part{Image: imagePrefix + hex.EncodeToString(d[:])})
			default:
				msg.Parts = append(msg.Parts, Part{})
			}
		}
		s.Messages = append(s.Messages, msg)
	}
	if p := req.GetParams(); p != nil {
		s.Params = &Params{MaxTokens: p.GetMaxTokens(), Temperature: p.Temperature, TopP: p.TopP,
			FrequencyPenalty: p.FrequencyPenalty}
		for _, st := range p.GetStop() {
			s.Params.Stop = append(s.Params.Stop, valid(st))
		}
	}
	return s
}

// valid returns s with invalid UTF-8 replaced by U+FFFD.
func valid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// Key computes the summarized request's key, as reqkey.Sum("", "", req).
func (s Summary) Key() (reqkey.Key, error) {
	var b reqkey.Builder
	b.Start("", "", s.Model, len(s.Messages))
	for i, m := range s.Messages {
		b.Message(m.Role, len(m.Parts))
		for j, p := range m.Parts {
			switch {
			case p.Text != nil && p.Image != "":
				return reqkey.Key{}, fmt.Errorf("message %d part %d has both text and image", i+1, j+1)
			case p.Text != nil:
				b.Text(*p.Text)
			case p.Image != "":
				hexDigest, ok := strings.CutPrefix(p.Image, imagePrefix)
				raw, err := hex.DecodeString(hexDigest)
				if !ok || err != nil || len(raw) != sha256.Size {
					return reqkey.Key{}, fmt.Errorf("message %d part %d: image must be \"sha256:<64 hex>\", got %q", i+1, j+1, p.Image)
				}
				b.Image([sha256.Size]byte(raw))
			default:
				b.Empty()
			}
		}
	}
	var p *cpv1.InferParams
	if s.Params != nil {
		p = &cpv1.InferParams{MaxTokens: s.Params.MaxTokens, Temperature: s.Params.Temperature,
			TopP: s.Params.TopP, FrequencyPenalty: s.Params.FrequencyPenalty, Stop: s.Params.Stop}
	}
	return b.Params(p), nil
}

// maxLine bounds one cassette line (a request summary holds whole prompts).
const maxLine = 64 << 20

// Read parses the cassette at path. Blank lines are skipped; any other line
// that is not a valid entry is an error naming the file and line.
func Read(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cassette: %w", err)
	}
	defer f.Close()
	return parse(f, path)
}

func parse(r io.Reader, name string) ([]Entry, error) {
	br := bufio.NewReader(r)
	var entries []Entry
	for n := 1; ; n++ {
		line, err := readLine(br)
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return entries, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("cassette %s line %d: %w", name, n, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, perr := parseEntry(line)
		if perr != nil {
			return nil, fmt.Errorf("cassette %s line %d: %w", name, n, perr)
		}
		e.line = n
		entries = append(entries, e)
	}
}

// readLine reads one line without its newline, refusing lines over maxLine.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		part, err := br.ReadSlice('\n')
		buf = append(buf, part...)
		if len(buf) > maxLine {
			return nil, fmt.Errorf("line longer than %d MiB", maxLine>>20)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(buf, []byte("\n")), err
	}
}

func parseEntry(line []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("malformed entry: %w", err)
	}
	if dec.More() {
		return Entry{}, errors.New("malformed entry: more than one JSON value on the line")
	}
	if len(e.Request.Messages) == 0 {
		return Entry{}, errors.New("entry has no request messages")
	}
	k, err := e.Request.Key()
	if err != nil {
		return Entry{}, fmt.Errorf("entry request: %w", err)
	}
	if e.Key != "" {
		got, ok := reqkey.Parse(e.Key)
		if !ok {
			return Entry{}, fmt.Errorf("key must be 64 hex digits, got %q", e.Key)
		}
		if got != k {
			return Entry{}, fmt.Errorf("key %s does not match its request (whose key is %s); delete the key to have it recomputed", got.Short(), k.Short())
		}
	}
	e.key, e.Key = k, k.String()
	return e, nil
}

// encode returns e as one cassette line, newline included, with <, > and
// & left as they are (replies are full of <think>).
func (e Entry) encode() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("encode entry: %w", err)
	}
	return b.Bytes(), nil // Encode ends the value with a newline
}
