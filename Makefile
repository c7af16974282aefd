# Martlet: build, test, generate, fuzz, benchmark. `make test` is the README's test command.
SWIFT ?= swift
GEN_ARGS = spec/kafka Sources/Protocol/Generated Tests/ProtocolTests/Generated/MessageSamples.swift
FUZZ_SECONDS ?= 600
FUZZ_SCRATCH = .build-fuzz
BENCH_SCRATCH = .build-bench

.PHONY: build run run-single test conformance check-generated generate fuzz bench capture clean

build:
	$(SWIFT) build

## The main job: 3 controllers and 3 brokers (config/cluster/) on 127.0.0.1, brokers on 9092-9094,
## data and logs under .martlet-data (Ctrl-C stops them, brokers first).
run:
	$(SWIFT) build -c release --product martlet
	scripts/run-cluster.sh $(CURDIR)/.build/release/martlet

## One broker alone on 127.0.0.1:9092 (config/server.properties), without controllers.
run-single:
	$(SWIFT) build -c release --product martlet
	$(CURDIR)/.build/release/martlet server --config config/server.properties

## The whole test suite: generated code up to date, the debug build and the release binary `make run`
## uses, unit/golden/in-process tests, then the stock clients (kcat, confluent-kafka, kafka-python,
## aiokafka) against real `martlet server` processes, the main job's cluster script with the release
## binary among them.
test: check-generated
	$(SWIFT) build
	$(SWIFT) build -c release --product martlet
	$(SWIFT) test
	MARTLET_BIN=$(CURDIR)/.build/debug/martlet MARTLET_MAIN_BIN=$(CURDIR)/.build/release/martlet bash conformance/run.sh

## Only the conformance suite, against an already built martlet.
conformance:
	MARTLET_BIN=$(CURDIR)/.build/debug/martlet bash conformance/run.sh

## Fails when Sources/Protocol/Generated differs from what the generator writes from spec/kafka.
check-generated:
	$(SWIFT) run martlet-protocol-gen $(GEN_ARGS) --check

generate:
	$(SWIFT) run martlet-protocol-gen $(GEN_ARGS)

## libFuzzer over frame + request decoding (and record batches), for FUZZ_SECONDS (default 600).
## Without FUZZING the same target is a replayer: `swift run martlet-fuzz-protocol FILE...` runs inputs once.
fuzz:
	$(SWIFT) build --scratch-path $(FUZZ_SCRATCH) -c release --product martlet-fuzz-protocol \
		-Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xcc -DMARTLET_FUZZING
	mkdir -p .fuzz-corpus
	$(FUZZ_SCRATCH)/release/martlet-fuzz-protocol .fuzz-corpus Tests/ProtocolTests/Fixtures/wire \
		-max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1

## Release-build benchmarks, printed as ratios against baselines measured in the same run: the protocol
## hot paths, then rdkafka_performance against Martlet and Tansu (produce, consume, latency).
bench:
	$(SWIFT) run --scratch-path $(BENCH_SCRATCH) -c release martlet-bench-protocol
	$(SWIFT) build -c release --product martlet
	python3 bench/broker_bench.py

## Re-captures the golden wire fixtures from kcat, confluent-kafka and kafka-python.
capture:
	conformance/capture/recapture.sh

clean:
	rm -rf .build $(FUZZ_SCRATCH) $(BENCH_SCRATCH)
