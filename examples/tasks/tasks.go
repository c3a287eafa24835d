package tasks

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

//go:embed tasks.json
var suiteJSON []byte

// Task is one instruction of the suite with the checks that judge it.
type Task struct {
	// ID is unique in the suite, e.g. "zh-send-zhangsan".
	ID          string `json:"id"`
	Instruction string `json:"instruction"`
	// Lang is "zh" or "en".
	Lang string `json:"lang"`
	// Intents lists what the task exercises: open, tap, type, toggle,
	// brightness, search, send, add_cart, back, home, navigate, multi.
	Intents []string `json:"intents"`
	Checks  []Check  `json:"checks"`
}

// Check is one assertion over the phone's state JSON.
type Check struct {
	Path  string `json:"path"`
	Op    string `json:"op"`
	Value any    `json:"value,omitempty"`
}

// String renders the check as `path op value`.
func (c Check) String() string {
	if c.Op == "exists" || c.Op == "absent" {
		return c.Path + " " + c.Op
	}
	v, _ := json.Marshal(c.Value)
	return c.Path + " " + c.Op + " " + string(v)
}

// ops are the operators a check may use.
var ops = map[string]bool{
	"eq": true, "ne": true, "contains": true, "not_contains": true,
	"gt": true, "gte": true, "lt": true, "lte": true,
	"len_eq": true, "len_gte": true, "exists": true, "absent": true,
}

// Load returns the suite, validated: unique ids, known operators, paths
// that parse, at least one check per task.
func Load() ([]Task, error) {
	return Parse(suiteJSON)
}

// Parse reads a suite in the tasks.json format and validates it.
func Parse(data []byte) ([]Task, error) {
	var suite struct {
		Tasks []Task `json:"tasks"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&suite); err != nil {
		return nil, fmt.Errorf("parse task suite: %w", err)
	}
	seen := map[string]bool{}
	for _, t := range suite.Tasks {
		switch {
		case t.ID == "":
			return nil, fmt.Errorf("task %q has no id", t.Instruction)
		case seen[t.ID]:
			return nil, fmt.Errorf("task id %s is used twice", t.ID)
		case strings.TrimSpace(t.Instruction) == "":
			return nil, fmt.Errorf("task %s has no instruction", t.ID)
		case t.Lang != "zh" && t.Lang != "en":
			return nil, fmt.Errorf("task %s: lang %q is not zh or en", t.ID, t.Lang)
		case len(t.Checks) == 0:
			return nil, fmt.Errorf("task %s has no checks", t.ID)
		}
		seen[t.ID] = true
		for _, c := range t.Checks {
			if !ops[c.Op] {
				return nil, fmt.Errorf("task %s: check %s: unknown op %q", t.ID, c.Path, c.Op)
			}
			if _, err := parsePath(c.Path); err != nil {
				return nil, fmt.Errorf("task %s: %w", t.ID, err)
			}
		}
	}
	return suite.Tasks, nil
}

// CheckError says which assertion of a task failed and what was found.
type CheckError struct {
	Task  string
	Check Check
	Got   string // the value found, as JSON, or why none was
}

func (e *CheckError) Error() string {
	return "task " + e.Task + ": check " + e.Check.String() + " failed: got " + e.Got
}

// Check runs the task's checks over a phone's state JSON and returns nil
// when all hold, or a *CheckError naming the first that does not.
func (t Task) Check(stateJSON []byte) error {
	var state any
	dec := json.NewDecoder(bytes.NewReader(stateJSON))
	dec.UseNumber()
	if err := dec.Decode(&state); err != nil {
		return fmt.Errorf("task %s: parse state: %w", t.ID, err)
	}
	for _, c := range t.Checks {
		if err := c.eval(state); err != nil {
			return &CheckError{Task: t.ID, Check: c, Got: err.Error()}
		}
	}
	return nil
}

// errMissing marks a path that leads nowhere.
var errMissing = errors.New("nothing (path not found)")
