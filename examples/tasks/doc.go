// Package tasks is the agent task suite: natural-language instructions,
// Chinese and English, each with declarative checks over the simulated
// phone's state (plugins/device-sim/phone State, as JSON) that say whether
// the task was really done: the message sent, airplane mode on, the cart
// not empty.
//
// The suite is data, tasks.json, embedded in the package; [Load] returns
// it and [Task.Check] judges a phone's final state:
//
//	ts, _ := tasks.Load()
//	for _, t := range ts {
//		// run t.Instruction on a fresh simulated phone with any planner…
//		err := t.Check(stateJSON) // nil, or which assertion failed
//	}
//
// A check is a path into the state JSON, an operator and a value, e.g.
// {"path": "wechat.chats[name=张三].messages[-1].text", "op": "eq",
// "value": "明天开会"}. Paths are keys separated by dots; [N] indexes an
// array (negative from the end), [key=value] selects the first array
// element whose field key equals value, and ["a.b"] is a key with dots.
// Operators: eq, ne, contains, not_contains, gt, gte, lt, lte, len_eq,
// len_gte, exists, absent.
//
// What this package is not: a runner. `cloudphone bench agent` runs the
// suite over a planner on simulated phones; this package's tests run it
// in-process over the offline planner (wasm-modules/planner-intent).
package tasks
