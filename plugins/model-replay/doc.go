// Command model-replay is the model plugin that records a real model's
// requests and replies into a cassette and replays them, for deterministic
// tests and regression runs. Configure it in plugins.config.model-replay:
//
//	# record: proxy to an OpenAI-compatible server and append every
//	# exchange to the cassette
//	mode: record
//	upstream: http://127.0.0.1:8000/v1
//	file: cassettes/airplane.jsonl   # under data_dir (default ./data)
//
//	# replay: answer from the cassette, never calling a model
//	mode: replay
//	file: cassettes/airplane.jsonl
//	match: exact                     # or sequence
//
// Tasks then name model-replay as their model (`cloudphone run --model
// model-replay`, or agent.Task.Model). With match exact (the default), a
// request is found by its canonical key (model field, every message's role
// and text, the sha256 of every image, the sampling parameters; never the
// tenant, task or request id); with sequence, the nth request gets the nth
// recorded reply whatever it asks. A request with no recording fails with
// its key and the nearest recorded request, never an empty reply; a
// malformed cassette is refused at configuration with the line number.
//
// With no settings ({}) the plugin loads and every call fails, naming the
// settings to give. The engine is package replay.
package main
