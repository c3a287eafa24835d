// Package cloudphonev1 holds the cloudphone plugin contract: the protobuf
// messages and gRPC services every planner, model and device plugin speaks,
// generated from plugin.proto (run `make proto` after editing it).
//
// The same messages cross the wasm boundary as protobuf bytes, wrapped in
// GuestReply, so a plugin's logic is identical under both transports.
package cloudphonev1
