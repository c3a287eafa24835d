// Package store is the durable store of a cloudphone node: tasks, their
// events (steps), screenshots, last known devices, plugin history, API
// keys and the audit log, in one embedded SQLite database
// (modernc.org/sqlite, pure Go: no cgo) at data.dir/store.db, with
// screenshots as files beside it.
//
// What it is not: it holds no policy. It does not schedule, run or time out
// tasks (core/tasks does, through UpdateTask's compare-and-set), check
// tokens (core/api does, reading API keys here) or decide what is audited.
//
// # Main types
//
//   - Store: Open(ctx, Options) … Close. Safe for concurrent use.
//   - Task, State, TaskFilter: CreateTask (idempotent by id), Task,
//     ListTasks (newest first, cursor pages), UpdateTask / UpdateState
//     (compare-and-set on the state: a task is never started twice).
//   - Event: AppendEvent, Events(after seq) for SSE resume, LastSeq;
//     screenshots by content hash: PutScreenshot, Screenshot.
//   - Recovery: Recover(ctx, nodeID) at start lists queued tasks and those
//     left running or paused, with their last completed step and events;
//     MarkInterrupted ends one with ReasonInterrupted.
//   - Device, PluginEvent, APIKey (only the sha256 of a key is stored).
//   - AuditEntry: AppendAudit, VerifyAudit, ListAudit. Rows are
//     append-only (triggers refuse UPDATE and DELETE) and hash-chained.
//   - Prune and RunRetention: data.step_retention and
//     data.screenshot_retention.
//
// # Schema
//
// Migrations are the embedded files migrations/NNNN_name.sql, applied at
// Open in one transaction and recorded in schema_migrations. A database
// whose version is newer than this binary's is refused (ErrSchemaTooNew)
// rather than written by code that does not know its shape.
//
// # Writes, durability and throughput
//
// Every write goes through one writer goroutine. It takes the first queued
// write and every write queued behind it (up to Options.MaxBatch), runs them
// in one transaction, each in its own savepoint so that one failing write
// does not fail the others, commits once, and only then answers each
// caller. A method that writes returns nil only after the commit that holds
// its write; an error means the write was not applied. This is group
// commit: under load, hundreds of writes share one fsync, so throughput is
// bounded by the disk's fsync rate times the batch size rather than by the
// fsync rate alone (see BenchmarkCreateTask).
//
// The database runs in WAL mode with synchronous=FULL by default
// (Options.Sync = SyncFull): every commit fsyncs the write-ahead log, so an
// acknowledged write survives a process kill, an OS crash and a power loss
// (as far as the disk honours fsync). SyncNormal is offered for disposable
// nodes: in WAL mode it still survives a process kill (kill -9) with no
// loss, since the WAL is in the OS page cache, but an OS crash or power loss
// may drop the last commits; the database is never corrupted in either
// mode. We chose FULL because group commit already amortizes the fsync:
// with it the store meets its throughput target without weakening what an
// acknowledged task submission means.
//
// Screenshot files are written before the event that references them
// (temp file, rename). With SyncFull the file is fsynced by its caller
// (callers' fsyncs run in parallel) and its directory by the writer before
// the batch's commit, so an event never commits before its screenshot is
// durable. A crash between the two leaves an unreferenced file, which Prune
// deletes. A file whose content does not match its hash is never served.
//
// Reads use a separate pool of read-only connections with the hot queries
// prepared; WAL lets them run concurrently with the writer and see only
// committed data. Task, the API's hottest read, is served from a bounded
// in-memory cache that only the writer fills, after each commit and in
// commit order (so no reader sees a task go back to an older version); a
// miss is a query. The cache assumes this Store is the only writer of
// tasks in its database (Options.TaskCache). Concurrent
// connections from other processes (cloudphone token create while the
// server runs) wait up to Options.BusyTimeout for a lock; foreign keys are
// enforced.
//
// # Crash recovery
//
// A task's state moves only by compare-and-set (UpdateTask with the states
// it may come from). After a crash, Recover returns the queued tasks (to
// schedule again) and the running or paused ones with their last completed
// step; the caller resumes each after that step or ends it with
// MarkInterrupted. Both are compare-and-sets, so two recoverers cannot both
// take a task.
//
// # Audit chain
//
// Each audit row stores prev_hash and hash = sha256(prev_hash || canonical
// encoding of the row: every field length-prefixed); audit_head holds the
// last seq and hash, updated in the same transaction. VerifyAudit recomputes
// the chain and names the first row that was modified, deleted or inserted.
// Someone able to rewrite the database file can recompute the whole chain;
// exporting the head hash elsewhere (a log line, a ticket) pins it.
package store
