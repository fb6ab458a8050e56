# bpfwarden — build, run and test.
#
#   make run    install what is missing, build, run the agent (system-wide demo)
#   make test   install what is missing, build, run unit + real-kernel tests
#
# Steps that need root (apt-get, mounting bpffs, loading eBPF) go through
# sudo when make runs as a normal user, and run directly as root.

BUILD	 := build
GEN	 := $(BUILD)/gen
OBJ	 := $(BUILD)/obj
ASAN_OBJ := $(BUILD)/asan

CC	 ?= cc
CLANG	 ?= clang
BPFTOOL	 ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
SUDO	 := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ARCH	 := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

WARN	 := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
HARDEN	 := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
	    -fcf-protection -fPIE
CFLAGS	 ?= -O2 -g
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(CFLAGS) $(WARN) $(HARDEN) -I. -I$(GEN)
LDHARDEN := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
SAN	 := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

pc = $(shell pkg-config --cflags --libs $(1) 2>/dev/null)

# ---------------------------------------------------------------------------
# Object lists: the trust boundary is visible here. The loader (privileged
# at start) links no JSON, HTTP or parsing code; the processor links no
# loader object and no libbpf.
SHARED_SRCS    := ipc/ipc.c ipc/fdpass.c ipc/log.c seccomp/filter.c
LOADER_SRCS    := loader/main.c loader/args.c loader/caps.c loader/scope.c loader/pins.c \
		  loader/spawn.c loader/broker.c loader/landlock.c loader/programs.c \
		  loader/tls.c $(SHARED_SRCS)
LOADER_LIBS    := libbpf libelf zlib libcap libseccomp
# The parsers: one file per protocol behind processor/proto.h.
PARSER_SRCS    := processor/session.c processor/proto.c processor/proto_table.c \
		  processor/proto_http1.c processor/proto_http2.c processor/proto_pgsql.c \
		  processor/proto_mysql.c processor/proto_redis.c processor/proto_kafka.c
# The scrubber: policy, URL/key templates, SQL normalizer, detectors, and the
# stage that applies them to every transaction (processor/scrub_txn.h).
SCRUB_SRCS     := processor/policy.c processor/scrub_url.c processor/scrub_sql.c \
		  processor/detect.c processor/scrub_txn.c processor/scrub.c
PIPELINE_SRCS  := processor/pipeline.c processor/records.c processor/l7events.c \
		  processor/conntrack.c processor/reasm.c processor/events.c processor/text.c \
		  $(SCRUB_SRCS) $(PARSER_SRCS)
PROCESSOR_SRCS := processor/main.c processor/ringbuf.c processor/sandbox.c processor/handoff.c \
		  processor/recfile.c processor/pcap_source.c $(PIPELINE_SRCS) $(SHARED_SRCS)
PROCESSOR_LIBS := jansson libcap libseccomp libnghttp2 libpcap libcrypto

LOADER_OBJS    := $(LOADER_SRCS:%.c=$(OBJ)/%.o)
PROCESSOR_OBJS := $(PROCESSOR_SRCS:%.c=$(OBJ)/%.o)

BPF_PROGS      := proc l7
BPF_OBJS       := $(BPF_PROGS:%=$(BUILD)/bpf/%.bpf.o)
SKELS	       := $(BPF_PROGS:%=$(GEN)/%.skel.h)
SECCOMP_GEN    := $(GEN)/seccomp_loader.h $(GEN)/seccomp_processor.h

# Unit tests: pure logic, built with ASan + UBSan.
UNIT_TEST_SRCS := test/check_main.c test/ipc/check_ipc.c test/processor/check_ringbuf.c \
		  test/processor/check_text.c test/processor/check_events.c test/processor/check_scrub.c \
		  test/processor/check_handoff.c test/processor/check_reasm.c \
		  test/processor/check_conntrack.c test/processor/check_session.c \
		  test/processor/proto_harness.c test/processor/check_proto_http1.c \
		  test/processor/check_proto_http2.c test/processor/check_proto_pgsql.c \
		  test/processor/check_proto_mysql.c test/processor/check_proto_redis.c \
		  test/processor/check_proto_kafka.c test/processor/check_pcap_source.c \
		  test/processor/check_recfile.c test/processor/check_pipeline.c \
		  test/processor/check_policy.c test/processor/check_scrub_url.c \
		  test/processor/check_scrub_sql.c test/processor/check_scrub_sql_oracle.c \
		  test/processor/check_detect.c test/processor/check_scrub_txn.c \
		  test/loader/check_args.c test/seccomp/check_filter.c
UNIT_MOD_SRCS  := ipc/ipc.c ipc/fdpass.c ipc/log.c processor/ringbuf.c \
		  processor/handoff.c processor/recfile.c processor/pcap_source.c \
		  $(PIPELINE_SRCS) loader/args.c seccomp/filter.c
UNIT_OBJS      := $(UNIT_TEST_SRCS:%.c=$(ASAN_OBJ)/%.o) $(UNIT_MOD_SRCS:%.c=$(ASAN_OBJ)/%.o)
UNIT_LIBS      := check jansson libseccomp libnghttp2 libpcap libcrypto
# The SQL normalizer's oracle (test only): PostgreSQL's own parser.
UNIT_LDLIBS    := -lpg_query

.PHONY: all deps run test unit integration clean format check-format bpf-mount
MAKEFLAGS += --no-print-directory
.DELETE_ON_ERROR:
.SECONDARY: $(BPF_OBJS) $(SKELS) $(BPF_PROGS:%=$(GEN)/%.digest.h)

all: $(BUILD)/bpfwarden-loader $(BUILD)/bpfwarden-processor

# ---------------------------------------------------------------------------
# Dependencies from Debian's packages. libbpf >= 1.4 and bpftool come from
# bookworm-backports (Debian 12's libbpf 1.1 lacks uprobe_multi).
deps:
	@SUDO="$(SUDO)" sh test/deps.sh

# ---------------------------------------------------------------------------
# eBPF: vmlinux.h from the running kernel's BTF, CO-RE objects, skeletons.
$(GEN)/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/*.h $(GEN)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
		-I$(GEN) -Ibpf -c $< -o $@

$(GEN)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# The digest of every embedded object, logged by the loader and sent to
# the processor, so what runs can be matched with what was reviewed.
$(GEN)/%.digest.h: $(BUILD)/bpf/%.bpf.o
	sha256sum $< | awk '{ printf "#define %s_BPF_SHA256 \"%s\"\n", toupper("$*"), $$1 }' > $@

# ---------------------------------------------------------------------------
# seccomp allowlists: data in seccomp/*.policy, C tables generated here.
$(GEN)/seccomp_%.h: seccomp/%.policy seccomp/gen-policy.awk
	@mkdir -p $(@D)
	awk -v name=$* -f seccomp/gen-policy.awk $< > $@

# ---------------------------------------------------------------------------
# Userspace.
$(OBJ)/loader/%.o: ALL_CFLAGS += $(shell pkg-config --cflags $(LOADER_LIBS))
$(OBJ)/loader/%.o: loader/%.c $(SKELS) $(BPF_PROGS:%=$(GEN)/%.digest.h) $(SECCOMP_GEN)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -c $< -o $@

$(OBJ)/%.o: %.c $(SECCOMP_GEN)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -c $< -o $@

$(BUILD)/bpfwarden-loader: $(LOADER_OBJS)
	$(CC) $(LDHARDEN) $^ -o $@ $(call pc,$(LOADER_LIBS))

$(BUILD)/bpfwarden-processor: $(PROCESSOR_OBJS)
	$(CC) $(LDHARDEN) $^ -o $@ $(call pc,$(PROCESSOR_LIBS))

# ---------------------------------------------------------------------------
# Tests.
$(ASAN_OBJ)/%.o: %.c $(SECCOMP_GEN)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O1 -g $(WARN) $(SAN) -I. -I$(GEN) -MMD \
		$(shell pkg-config --cflags $(UNIT_LIBS)) -c $< -o $@

$(BUILD)/test/unit: $(UNIT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(SAN) $^ -o $@ $(call pc,$(UNIT_LIBS)) $(UNIT_LDLIBS)

unit: $(BUILD)/test/unit
	$(SUDO) env CI="$(CI)" $(BUILD)/test/unit

# Test-only tools: a consumer of the pinned L7 ring buffer that asserts on
# captured bytes without printing them, and a TCP peer with awkward writes.
TEST_TOOLS := $(BUILD)/test/l7_reader $(BUILD)/test/tcp_writer

$(BUILD)/test/l7_reader: test/integration/l7_reader.c processor/ringbuf.c processor/reasm.c $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) test/integration/l7_reader.c processor/ringbuf.c processor/reasm.c \
		-o $@ $(call pc,libbpf)

$(BUILD)/test/tcp_writer: test/integration/tcp_writer.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< -o $@

integration: all $(TEST_TOOLS)
	$(SUDO) env CI="$(CI)" bash test/integration/run.sh

test: deps
	$(MAKE) all $(BUILD)/test/unit
	$(MAKE) check-format
	sh test/seccomp/gen_policy_test.sh
	bash test/otlp/selftest.sh
	$(MAKE) unit
	$(MAKE) integration

# ---------------------------------------------------------------------------
# Run: the embedded default is system-wide capture, asked for explicitly.
bpf-mount:
	@grep -qs ' /sys/fs/bpf bpf ' /proc/mounts || \
		{ echo "mounting bpffs at /sys/fs/bpf"; $(SUDO) mount -t bpf bpf /sys/fs/bpf; }

run: deps
	$(MAKE) all
	$(MAKE) bpf-mount
	@echo "bpfwarden: running with --system-wide (every process on this node is in scope)."
	@echo "bpfwarden: scope it with: $(BUILD)/bpfwarden-loader --cgroup /sys/fs/cgroup/<path>"
	$(SUDO) $(BUILD)/bpfwarden-loader --system-wide $(RUN_ARGS)

# ---------------------------------------------------------------------------
# Benchmark: nginx req/s under wrk with the agent off, scoped to nginx, and
# scoped to an empty cgroup, interleaved (test/bench/nginx.sh). Tunable with
# BENCH_ROUNDS, BENCH_SECONDS, BENCH_PIN. Builds first (after deps, like run
# and test, so that make -j cannot build before the compilers are installed).
.PHONY: bench
bench: deps
	$(MAKE) all $(BUILD)/test/gen_stream $(BUILD)/bench/bpfwarden-processor-noscrub
	$(SUDO) env BENCH_ROUNDS="$(BENCH_ROUNDS)" BENCH_SECONDS="$(BENCH_SECONDS)" \
		BENCH_PIN="$(BENCH_PIN)" bash test/bench/nginx.sh
	$(SUDO) env BENCH_ROUNDS="$(BENCH_ROUNDS)" bash test/bench/replay.sh

# The replay benchmark's baseline for the scrubber's cost: the same processor
# with scrubber_txn() replaced by a raw copy (-DBPFW_BENCH_NO_SCRUB). A
# benchmark tool only: it exports unscrubbed values and is never installed.
$(BUILD)/bench/bpfwarden-processor-noscrub: $(PROCESSOR_SRCS) $(SECCOMP_GEN)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DBPFW_BENCH_NO_SCRUB $(PROCESSOR_SRCS) -o $@ $(LDHARDEN) \
		$(call pc,$(PROCESSOR_LIBS))

# The replay benchmark's input generator (test/bench/replay.sh).
$(BUILD)/test/gen_stream: test/bench/gen_stream.c processor/recfile.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $^ -o $@

# ---------------------------------------------------------------------------
# Fuzzing (libFuzzer; clang only). make fuzz [FUZZ_SECONDS=600] builds
# $(BUILD)/fuzz/<target> from test/fuzz/<target>.c and the modules it
# exercises (never sandbox.c or main.c), then runs each for FUZZ_SECONDS on a
# fresh copy of test/fuzz/corpus/<target> under $(BUILD)/fuzz/corpus/. A
# crash, leak, sanitizer report or broken invariant fails the target and
# leaves $(BUILD)/fuzz/<target>-crash-*; make -j2 fuzz runs two at a time.
# The log of each run is $(BUILD)/fuzz/<target>.log; make fuzz-run-<target>
# runs one. -fno-sanitize-recover=all: a UBSan report is a crash, not a line.
FUZZ_CC	       ?= clang
FUZZ_SECONDS   ?= 60
FUZZ_CFLAGS    := -std=gnu11 -D_GNU_SOURCE -g -O1 $(WARN) -I. -I$(GEN) \
		  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_PARSERS   := fuzz_http1 fuzz_http2 fuzz_pgsql fuzz_mysql fuzz_redis fuzz_kafka
FUZZ_TARGETS   := fuzz_ipc fuzz_events fuzz_l7 fuzz_reasm fuzz_fdinfo fuzz_args fuzz_pcap \
		  fuzz_replay $(FUZZ_PARSERS) fuzz_policy fuzz_scrub_url fuzz_scrub_sql fuzz_detect
FUZZ_SRCS_fuzz_ipc    := ipc/ipc.c
# events.c and l7events.c send every string through the scrubber's detectors
SCRUB_LINK            := $(SCRUB_SRCS) processor/proto.c processor/text.c
FUZZ_SRCS_fuzz_events := processor/events.c $(SCRUB_LINK)
FUZZ_SRCS_fuzz_l7     := processor/l7events.c processor/events.c $(SCRUB_LINK)
FUZZ_SRCS_fuzz_reasm  := processor/reasm.c
FUZZ_SRCS_fuzz_fdinfo := processor/handoff.c ipc/ipc.c ipc/fdpass.c ipc/log.c
FUZZ_SRCS_fuzz_args   := loader/args.c ipc/log.c
FUZZ_LIBS_fuzz_events := jansson libcrypto
FUZZ_LIBS_fuzz_l7     := jansson libcrypto
FUZZ_ARGS_fuzz_l7     := -max_len=17000 # room for a record past L7_CAPTURE_MAX
$(foreach t,$(FUZZ_PARSERS),$(eval FUZZ_SRCS_$(t) := $(PARSER_SRCS)))
$(foreach t,$(FUZZ_PARSERS),$(eval FUZZ_LIBS_$(t) := libnghttp2))
FUZZ_SRCS_fuzz_pcap   := processor/pcap_source.c processor/l7events.c processor/events.c \
			 $(SCRUB_LINK)
FUZZ_LIBS_fuzz_pcap   := libpcap jansson libcrypto
FUZZ_ARGS_fuzz_pcap   := -max_len=8192
FUZZ_SRCS_fuzz_replay := processor/recfile.c $(PIPELINE_SRCS)
FUZZ_LIBS_fuzz_replay := jansson libnghttp2 libcrypto
FUZZ_ARGS_fuzz_replay := -max_len=8192 # several exchanges per input
FUZZ_SRCS_fuzz_policy := processor/policy.c
FUZZ_LIBS_fuzz_policy := jansson libcrypto
FUZZ_ARGS_fuzz_policy := -dict=test/fuzz/policy.dict
FUZZ_SRCS_fuzz_scrub_url := processor/scrub_url.c processor/text.c
FUZZ_SRCS_fuzz_scrub_sql := processor/scrub_sql.c processor/text.c
FUZZ_ARGS_fuzz_scrub_sql := -dict=test/fuzz/sql.dict
FUZZ_SRCS_fuzz_detect := processor/detect.c
FUZZ_ARGS_fuzz_detect := -dict=test/fuzz/detect.dict

define FUZZ_RULES
$(BUILD)/fuzz/$(1): test/fuzz/$(1).c test/fuzz/fuzz.h test/fuzz/fuzz_json.h test/fuzz/fuzz_session.h $(FUZZ_SRCS_$(1))
	@mkdir -p $$(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $$(if $(FUZZ_LIBS_$(1)),$$(shell pkg-config --cflags $(FUZZ_LIBS_$(1)))) \
		test/fuzz/$(1).c $(FUZZ_SRCS_$(1)) -o $$@ $$(call pc,$(FUZZ_LIBS_$(1)))

fuzz-run-$(1): $(BUILD)/fuzz/$(1)
	@rm -rf $(BUILD)/fuzz/corpus/$(1) && mkdir -p $(BUILD)/fuzz/corpus/$(1)
	@cp test/fuzz/corpus/$(1)/* $(BUILD)/fuzz/corpus/$(1)/
	@echo "fuzz: $(1) for $(FUZZ_SECONDS)s (log: $(BUILD)/fuzz/$(1).log)"
	@if $(BUILD)/fuzz/$(1) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		$(FUZZ_ARGS_$(1)) -artifact_prefix=$(BUILD)/fuzz/$(1)- \
		$(BUILD)/fuzz/corpus/$(1) > $(BUILD)/fuzz/$(1).log 2>&1; then \
		echo "fuzz: $(1) ok: $$$$(grep -E '^#[0-9]+' $(BUILD)/fuzz/$(1).log | tail -n 1)"; \
	else \
		tail -n 60 $(BUILD)/fuzz/$(1).log; echo "fuzz: $(1) FAILED"; exit 1; \
	fi
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RULES,$(t))))

.PHONY: fuzz fuzz-build $(FUZZ_TARGETS:%=fuzz-run-%)
fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)

FORMAT_SRCS = $(wildcard bpf/*.c bpf/*.h loader/*.c loader/*.h processor/*.c processor/*.h \
		ipc/*.c ipc/*.h seccomp/*.c seccomp/*.h test/*.c test/*.h test/*/*.c)

check-format:
	clang-format --dry-run --Werror $(FORMAT_SRCS)

format:
	clang-format -i $(FORMAT_SRCS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
