package cluster

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// The streams, buckets and subjects a cluster shares. Every node must agree
// on them; they are not configurable so two nodes cannot disagree.
const (
	streamTasks     = "CP_TASKS"
	streamEvents    = "CP_EVENTS"
	consumerWorkers = "cp-workers"
	bucketDevices   = "cp-devices"
	bucketNodes     = "cp-nodes"
	bucketDone      = "cp-done"
	bucketProgress  = "cp-progress"
	bucketPlugins   = "cp-plugins"

	subjTasks       = "cp.tasks"
	subjEvents      = "cp.events"
	subjTaskEvents  = subjEvents + ".task"
	subjDeviceEvent = subjEvents + ".device"
)

// token turns an arbitrary string (a tenant, a task or device id such as
// "adb/192.168.1.5:5555") into one valid subject token and key-value key
// part: strings made only of letters, digits, '-' and '_' stay as they are
// (readable subjects for the usual ids); any other string becomes "=" and
// its unpadded base64url encoding. The mapping is injective: a kept string
// never starts with "=".
func token(s string) string {
	if s != "" && plain(s) {
		return s
	}
	return "=" + base64.RawURLEncoding.EncodeToString([]byte(s))
}

// untoken reverses token.
func untoken(t string) (string, error) {
	if strings.HasPrefix(t, "=") {
		b, err := base64.RawURLEncoding.DecodeString(t[1:])
		if err != nil {
			return "", fmt.Errorf("decode token %q: %w", t, err)
		}
		return string(b), nil
	}
	if t == "" || !plain(t) {
		return "", fmt.Errorf("decode token %q: %w", t, errBadToken)
	}
	return t, nil
}

var errBadToken = errors.New("not a token")

func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func taskSubject(tenant string) string { return subjTasks + "." + token(tenant) }

func taskEventSubject(id string) string { return subjTaskEvents + "." + token(id) }

func deviceEventSubject(id string) string { return subjDeviceEvent + "." + token(id) }

// deviceKey is a device's registry key: its node and its id, since two
// hosts may both have a "redroid/1".
func deviceKey(node, id string) string { return token(node) + "." + token(id) }
