package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// DefaultMaxBodyBytes bounds a request body when Server.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

var (
	errBadRequest = errors.New("bad request")
	errForbidden  = errors.New("forbidden")
)

// decodeBody decodes the request's JSON body into v strictly: at most
// the body limit (else a *http.MaxBytesError: 413), no unknown fields
// (the error names the field), one JSON value and nothing after it. An
// empty body decodes as {} when emptyOK.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return fmt.Errorf("%w: Content-Type must be application/json, got %q", errBadRequest, ct)
		}
	}
	limit := s.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	return decodeStrict(http.MaxBytesReader(w, r.Body, limit), v, emptyOK)
}

// decodeStrict is decodeBody's decoder, separate for fuzzing.
func decodeStrict(body io.Reader, v any, emptyOK bool) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return err
		case errors.Is(err, io.EOF):
			if emptyOK {
				return nil
			}
			return fmt.Errorf("%w: the body is empty; a JSON object is required", errBadRequest)
		}
		return fmt.Errorf("%w: invalid JSON body: %s", errBadRequest, trimJSONPrefix(err.Error()))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return fmt.Errorf("%w: invalid JSON body: data after the JSON object", errBadRequest)
	}
	return nil
}

func trimJSONPrefix(s string) string {
	if len(s) > 6 && s[:6] == "json: " {
		return s[6:]
	}
	return s
}
