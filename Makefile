# cloudphone — see README.md. `make run` and `make test` work from a fresh
# clone on a fresh Debian machine with Go installed: they install what they
# need (apt packages, Go modules through the proxy) idempotently.

SHELL      := /bin/bash
GO         ?= go
BIN        := bin
PLUGINS    := plugins.d
TOOLS      := $(BIN)/tools
GOFLAGS_B  := -trimpath
# Shipped process plugins carry no symbol table or DWARF (-s -w; Go's stack
# traces do not need them): a 30 % smaller binary is staged, hashed and
# started faster on every hot swap (docs/perf.md, "Hot swap").
PLUGIN_LDFLAGS := -s -w

# Plugins: every dir under wasm-modules/ is a wasm module, every dir under
# plugins/ with a main package is a process plugin.
WASM_MODS  := $(notdir $(wildcard wasm-modules/*))
PROC_PLUGS := $(notdir $(patsubst %/main.go,%,$(wildcard plugins/*/main.go)))

# System packages. RUN_PKGS is what `make run` needs, TEST_PKGS what the
# test suite needs on top of it.
RUN_PKGS   := fonts-wqy-microhei
TEST_PKGS  := adb protobuf-compiler podman runc qemu-system-x86 qemu-utils busybox-static cpio python3 chromium

PROTOC_GEN_GO      := google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC := google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
PROTOC_GEN_GO_VT   := github.com/planetscale/vtprotobuf/cmd/protoc-gen-go-vtproto@v0.6.1-0.20240319094008-0393e58bdf10
PROTOC_GEN_GO_LITE := github.com/aperturerobotics/protobuf-go-lite/cmd/protoc-gen-go-lite@v0.14.0

.PHONY: all build run test bench proto lint examples deps deps-run clean check-go model

all: build

check-go:
	@command -v $(GO) >/dev/null || { echo "error: Go 1.26+ is required (https://go.dev/dl); install it and re-run" >&2; exit 1; }

# apt-install packages that are missing; idempotent and quiet when all present.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	    || { echo "error: could not install:$$missing" >&2; exit 1; }; \
	fi
endef

deps-run: check-go
	$(call apt_install,$(RUN_PKGS))
	@$(GO) mod download

deps: deps-run
	$(call apt_install,$(TEST_PKGS))
	@# The KVM backend's test guest: Debian's kernel + e1000.ko, cached.
	@sh plugins/device-kvm/fetch-kernel.sh >/dev/null || { \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; $$SUDO apt-get update -qq && sh plugins/device-kvm/fetch-kernel.sh; }

build: check-go
	@mkdir -p $(BIN) $(PLUGINS)
	$(GO) build $(GOFLAGS_B) -o $(BIN)/cloudphone ./cmd/cloudphone
	@for m in $(WASM_MODS); do \
	  echo "wasm   $(PLUGINS)/$$m.wasm"; \
	  GOOS=wasip1 GOARCH=wasm $(GO) build $(GOFLAGS_B) -buildmode=c-shared -o $(PLUGINS)/.$$m.wasm.tmp ./wasm-modules/$$m && \
	  mv -f $(PLUGINS)/.$$m.wasm.tmp $(PLUGINS)/$$m.wasm || exit 1; \
	done
	@for p in $(PROC_PLUGS); do \
	  echo "plugin $(PLUGINS)/$$p"; \
	  $(GO) build $(GOFLAGS_B) -ldflags '$(PLUGIN_LDFLAGS)' -o $(PLUGINS)/.$$p.tmp ./plugins/$$p && mv -f $(PLUGINS)/.$$p.tmp $(PLUGINS)/$$p || exit 1; \
	done

examples: check-go
	@mkdir -p $(BIN)/examples
	GOOS=wasip1 GOARCH=wasm $(GO) build $(GOFLAGS_B) -buildmode=c-shared -o $(BIN)/examples/planner-hello.wasm ./examples/planner-hello
	$(GO) build $(GOFLAGS_B) -ldflags '$(PLUGIN_LDFLAGS)' -o $(BIN)/examples/device-echo ./examples/device-echo

# The main job: an instruction carried out on a simulated phone by the
# offline planner. Override with `make run INSTRUCTION="..."`.
INSTRUCTION ?= 打开设置然后打开飞行模式
run: deps-run build
	$(BIN)/cloudphone run "$(INSTRUCTION)"

test: deps build
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

# The performance figures of docs/perf.md, from one run: each benchmark
# compares against its baseline in the same process (see docs/perf.md).
bench: deps build
	@mkdir -p $(BIN)
	set -o pipefail; { \
	  $(GO) test -run '^$$' -bench 'BenchmarkPlanCall|BenchmarkCallsDuringSwap' -benchtime 2s ./core/pluginhost/ && \
	  $(GO) test -run '^$$' -bench '^BenchmarkSwap$$/wasm-cached' -benchtime 10x ./core/pluginhost/ && \
	  $(GO) test -run '^$$' -bench '^BenchmarkSwap$$/(wasm-new|process)' -benchtime 3x ./core/pluginhost/ && \
	  $(GO) test -run '^$$' -bench 'BenchmarkPlan4KiB|BenchmarkPlanSmall|BenchmarkLoad' -benchtime 2s ./core/pluginhost/wasmrt/ && \
	  $(GO) test -run '^$$' -bench 'BenchmarkGuestMemory' -benchtime 1000000x ./core/pluginhost/wasmrt/ && \
	  $(GO) test -run '^$$' -bench 'BenchmarkPlan4KiB$$' -benchtime 2s ./core/pluginhost/procrt/ && \
	  $(GO) test -run '^$$' -bench 'BenchmarkAgentStepIO' -benchtime 20x ./plugins/device-sim/fleet/ && \
	  $(GO) test -run '^$$' -bench 'BenchmarkShellRoundTrip' -benchtime 2s ./sdk/adb/ && \
	  $(GO) test -run 'TestThousandPhones' -v -count 1 ./plugins/device-sim/fleet/ && \
	  $(GO) test -run '^$$' -bench . -benchtime 1s ./core/pool/ && \
	  $(BIN)/cloudphone bench agent --parallel 1 && \
	  $(BIN)/cloudphone bench agent --phones 1000 --parallel 1000 && \
	  $(GO) test -run '^$$' -bench . -benchtime 1s ./core/ring/ && \
	  $(BIN)/cloudphone bench sched && \
	  $(GO) test -run '^$$' -bench 'BenchmarkDispatch' -benchtime 2s ./core/sched/ && \
	  $(GO) test -run '^$$' -bench 'BenchmarkGatewayOverhead' -benchtime 3000x ./core/vgpu/ && \
	  $(GO) test -run '^$$' -bench . -benchtime 10000x ./core/store/ && \
	  $(GO) test -run '^$$' -bench . ./core/auth/ && \
	  $(GO) test -run '^$$' -bench 'BenchmarkAPI' -benchtime 10000x ./core/node/ && \
	  $(GO) test -run '^$$' -bench . -benchtime 20x ./core/cluster/ ; \
	} 2>&1 | tee $(BIN)/bench.txt

proto: check-go
	$(call apt_install,protobuf-compiler)
	@mkdir -p $(TOOLS)
	GOBIN=$(abspath $(TOOLS)) $(GO) install $(PROTOC_GEN_GO)
	GOBIN=$(abspath $(TOOLS)) $(GO) install $(PROTOC_GEN_GO_GRPC)
	GOBIN=$(abspath $(TOOLS)) $(GO) install $(PROTOC_GEN_GO_VT)
	GOBIN=$(abspath $(TOOLS)) $(GO) install $(PROTOC_GEN_GO_LITE)
	@# vtproto: reflection-free MarshalVT/UnmarshalVT/SizeVT, used across
	@# the wasm boundary by sdk/guest and core/pluginhost/wasmrt.
	PATH=$(abspath $(TOOLS)):$$PATH protoc -I sdk/proto \
	  --go_out=sdk/proto --go_opt=paths=source_relative \
	  --go-grpc_out=sdk/proto --go-grpc_opt=paths=source_relative \
	  --go-vtproto_out=sdk/proto --go-vtproto_opt=paths=source_relative,features=marshal+unmarshal+unmarshal_unsafe+size \
	  sdk/proto/cloudphone/v1/plugin.proto
	@# The same message types for wasm guests, from protoc-gen-go-lite: no
	@# protobuf-go reflection runtime (which the protoc-gen-go types register
	@# at init), so a guest is less than half the size and compiles, starts
	@# and swaps faster. Its own codec is not generated (EqualVT only): the
	@# vtproto codec above compiles against these types too, and is faster
	@# in wasm. vtproto's check of the protoimpl version is dropped so that
	@# guests do not link protoimpl; plugin.pb.go keeps its own.
	@mkdir -p $(BIN)/proto-lite
	PATH=$(abspath $(TOOLS)):$$PATH protoc -I sdk/proto \
	  --go-lite_out=$(BIN)/proto-lite --go-lite_opt=paths=source_relative,features=equal \
	  sdk/proto/cloudphone/v1/plugin.proto
	{ printf '//go:build wasip1\n\n'; cat $(BIN)/proto-lite/cloudphone/v1/plugin.pb.go; } > sdk/proto/cloudphone/v1/plugin_lite.pb.go
	sed -i -e '/protoimpl "google.golang.org\/protobuf\/runtime\/protoimpl"/d' -e '/^const ($$/,/^$$/d' sdk/proto/cloudphone/v1/plugin_vtproto.pb.go
	@# gRPC stubs are for process plugins and the host only: keep them (and
	@# net, grpc, html/template...) out of wasm guests, with the reflection
	@# runtime the protoc-gen-go messages need.
	sed -i '1i //go:build !wasip1\n' sdk/proto/cloudphone/v1/plugin_grpc.pb.go sdk/proto/cloudphone/v1/plugin.pb.go

# The distilled INT8 intent model: retrain and quantize from planner-intent's
# parser. Writes wasm-modules/model-intent-int8/weights.bin (committed,
# embedded in the module) and weights-f32.bin (float, for comparison;
# git-ignored). Deterministic for a seed on one GOARCH.
model: check-go
	$(GO) run ./wasm-modules/model-intent-int8/train

lint: check-go
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
	  [ -z "$$out" ] || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	$(GO) vet ./...

clean:
	rm -rf $(BIN) $(PLUGINS)
