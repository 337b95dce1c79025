# Tsunagu — two commands: `make run` and `make test`.
BUILD ?= build
DATA ?= data
PORT ?= 8080
CMAKE_FLAGS ?=

.PHONY: run test build web bootstrap bench lint format clean

bootstrap:
	@scripts/bootstrap

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: bootstrap $(BUILD)/build.ninja
	cmake --build $(BUILD)

web: bootstrap
	@if [ -f web/package.json ]; then cd web && npm run --silent build; fi

run: build web
	@scripts/run-demo "$(BUILD)/tsunagu" "$(DATA)" "$(PORT)"

test: build web
	@scripts/test-all "$(BUILD)"

bench: bootstrap
	cmake -S . -B $(BUILD)-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DTSUNAGU_BENCH=ON
	cmake --build $(BUILD)-bench
	@scripts/bench-all "$(BUILD)-bench"

lint: $(BUILD)/build.ninja
	clang-tidy -p $(BUILD) --quiet $$(git ls-files "src/*.cpp")

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' 'tools/*.cpp' 'tools/*.hpp' 'fuzz/*.cpp')

clean:
	rm -rf $(BUILD) $(BUILD)-bench web/dist
