// Package intent is the offline planner behind the planner-intent wasm
// module: it turns a natural-language instruction into sub-goals and plans
// each step over the UI hierarchy of the observation, with no model.
//
// [Plan] is a pure function of a PlanRequest. It calls [Parse] on the
// instruction (Chinese or English: open an app, tap a named element, type
// into a field, toggle a setting, set the brightness, search in an app,
// send a WeChat message, add to cart, navigate with Amap, back, home, and
// parts joined by 然后/，/并/"and then"/"then"/"and"), finds the current
// sub-goal from the opaque state ([State], protobuf wire format written by
// hand), parses the uiautomator XML with a small tolerant scanner
// ([ParseXML]), checks whether the sub-goal is already done (current app,
// switch states, field texts, the last chat message) and otherwise picks
// the next action: launch, tap at the center of a matched element's
// bounds ([Tree.FindElement]: text, content-desc and resource-id, exact,
// contained or fuzzy, with English–Chinese label synonyms), type, swipe,
// key. Every move is bounded per sub-goal (taps, typing, scrolls, back
// presses, [MaxGoalSteps]) and per task ([MaxSteps]); a sub-goal that
// cannot be done ends the task with finish{success: false} and the
// reason. Malformed input (no observation, broken XML, an instruction it
// cannot parse) yields a PlanError or a finish, never a panic. A missing or
// foreign state (the host lost it, another planner version wrote it) is
// rebuilt from the history's "(k/n)" thinking prefixes and actions, so a
// task survives a planner swap between any two steps.
//
// The package compiles natively and for wasip1; it avoids encoding/json
// and fmt so the module stays small.
//
// What it is not: a model, or a general Android agent. It knows the apps
// in [Apps] by name and the screens' conventions (search boxes, chat
// inputs, settings rows with switches), not any app's internals.
package intent
