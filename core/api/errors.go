package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/openautoglm/cloudphone/core/tasks"
)

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the error: a short machine-readable code and a message
// for people. Rejected submissions add the task id and the scheduler's
// estimate.
type ErrorDetail struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	TaskID     string `json:"task_id,omitempty"`
	EstimateMS int64  `json:"estimate_ms,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteError writes the JSON error body every endpoint uses.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, ErrorBody{Error: ErrorDetail{Code: code, Message: msg}})
}

// writeErr maps a service error onto its status and code.
func (s *Server) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var rej *tasks.RejectError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &rej):
		writeJSON(w, rej.Status, ErrorBody{Error: ErrorDetail{Code: rej.Code, Message: rej.Error(), TaskID: rej.TaskID,
			EstimateMS: rej.Estimate.Milliseconds()}})
	case errors.As(err, &tooBig):
		WriteError(w, http.StatusRequestEntityTooLarge, "body_too_large", err.Error())
	case errors.Is(err, tasks.ErrNotFound):
		WriteError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, tasks.ErrConflict):
		WriteError(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, tasks.ErrInvalid), errors.Is(err, errBadRequest):
		WriteError(w, http.StatusBadRequest, "invalid_request", err.Error())
	case errors.Is(err, tasks.ErrClosed):
		WriteError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
	case errors.Is(err, errForbidden):
		WriteError(w, http.StatusForbidden, "forbidden", err.Error())
	default:
		s.logger().Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		WriteError(w, http.StatusInternalServerError, "internal", err.Error())
	}
}
