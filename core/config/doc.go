// Package config loads, validates and live-reloads the cloudphone
// configuration (DESIGN §7).
//
// Values come from four sources, each overriding the one before: the
// built-in defaults (Default), a YAML file (configs/cloudphone.yaml is the
// commented example), CLOUDPHONE_ environment variables with a double
// underscore between levels (CLOUDPHONE_CLUSTER__NATS_URL sets
// cluster.nats_url), and the command-line flags the caller maps to keys
// (LoadOptions.FlagKeys). koanf merges the sources; the package decodes the
// result into Config by its koanf tags and validates it. docs/config.md is
// the reference of every key.
//
// Errors are for people: every problem is reported, not just the first,
// each as an *Error naming the key and where its value came from — the file
// and line, the variable or the flag — with unknown keys rejected and the
// nearest known key suggested:
//
//	config cloudphone.yaml:12: plugins.wasm.memory_limit_mib: must be between 1 and 4096, got 0
//	config cloudphone.yaml:3: api.listn: unknown key (did you mean api.listen?)
//
// Watch keeps the running configuration (Watcher.Current) and reloads it
// when the file changes. A reload is all or nothing: an invalid edit, or
// one that changes a key that needs a restart (api.listen, data.dir,
// plugins.dir, log.format, cluster.nats_url), is refused as a whole and the
// running config stays. Diff lists the keys an applied edit changed, so
// the plugin host reconfigures only the plugins whose section changed.
//
// The package does not act on the configuration: it does not open
// listeners, set up logging or load plugins; the packages that own those
// read Config.
package config
