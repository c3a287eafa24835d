package wasmrt

import (
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A reply is decoded by its generated, reflection-free code (UnmarshalVT),
// which is several times faster than protobuf-go's but, like any generated
// protobuf code other than protobuf-go's, does not check that string fields
// are valid UTF-8, as proto3 requires. checkUTF8 does that check alone,
// over the encoded reply, guided by the message's descriptor: a reply that
// decodes but carries a broken string is still refused, as protobuf-go
// would refuse it. The same walk refuses what the generated decoder lets
// through but protobuf-go does not, such as an unknown group whose end
// does not match its start (FuzzCheckUTF8 compares the two).

// decodeGenerated decodes payload into resp, which must be fresh (the
// generated decoder merges into what is there), accepting exactly what
// protobuf-go's proto.Unmarshal accepts: the generated decoder and
// checkUTF8 first, and protobuf-go itself where the generated decoder is
// stricter (to protobuf-go, a known field with the wrong wire type is an
// unknown field). A string that is not UTF-8 is a *utf8Error.
func decodeGenerated(payload []byte, resp proto.Message, u vtUnmarshaler) error {
	err := u.UnmarshalVT(payload)
	if err == nil {
		if err = checkUTF8(payload, resp.ProtoReflect().Descriptor()); err == nil {
			return nil
		}
	}
	proto.Reset(resp)
	if ue := (*utf8Error)(nil); errors.As(err, &ue) {
		return err
	}
	return proto.Unmarshal(payload, resp)
}

// wireFields says, for each field number of one message type, whether the
// field is a string, a message (then which), or neither.
type wireFields struct {
	strings  map[protowire.Number]protoreflect.FieldDescriptor
	messages map[protowire.Number]protoreflect.MessageDescriptor
}

// wireFieldsCache holds a *wireFields per message descriptor.
var wireFieldsCache sync.Map

func fieldsOf(md protoreflect.MessageDescriptor) *wireFields {
	if f, ok := wireFieldsCache.Load(md); ok {
		return f.(*wireFields)
	}
	f := &wireFields{
		strings:  map[protowire.Number]protoreflect.FieldDescriptor{},
		messages: map[protowire.Number]protoreflect.MessageDescriptor{},
	}
	fds := md.Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		switch fd.Kind() {
		case protoreflect.StringKind:
			f.strings[fd.Number()] = fd
		case protoreflect.MessageKind, protoreflect.GroupKind:
			// A map field is a repeated message of its entry type.
			f.messages[fd.Number()] = fd.Message()
		}
	}
	got, _ := wireFieldsCache.LoadOrStore(md, f)
	return got.(*wireFields)
}

// maxUTF8Depth bounds the recursion into nested messages, as protobuf-go
// bounds decoding.
const maxUTF8Depth = 100

// utf8Error names a string field that is not valid UTF-8.
type utf8Error struct{ field protoreflect.FullName }

func (e *utf8Error) Error() string {
	return fmt.Sprintf("string field %s contains invalid UTF-8", e.field)
}

// checkUTF8 returns a *utf8Error naming the first string field of the
// encoded message b (of type md) that is not valid UTF-8, nested messages
// included, or another error if b is not well-formed protobuf.
func checkUTF8(b []byte, md protoreflect.MessageDescriptor) error {
	return checkUTF8Depth(b, md, 0)
}

func checkUTF8Depth(b []byte, md protoreflect.MessageDescriptor, depth int) error {
	if depth > maxUTF8Depth {
		return fmt.Errorf("message %s nested more than %d deep", md.FullName(), maxUTF8Depth)
	}
	f := fieldsOf(md)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%s: %w", md.FullName(), protowire.ParseError(n))
		}
		if num > protowire.MaxValidNumber {
			return fmt.Errorf("%s: field number %d is out of range", md.FullName(), num)
		}
		b = b[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return fmt.Errorf("%s field %d: %w", md.FullName(), num, protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return fmt.Errorf("%s field %d: %w", md.FullName(), num, protowire.ParseError(n))
		}
		b = b[n:]
		if fd, ok := f.strings[num]; ok {
			if !utf8.Valid(v) {
				return &utf8Error{field: fd.FullName()}
			}
		} else if sub, ok := f.messages[num]; ok {
			if err := checkUTF8Depth(v, sub, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
