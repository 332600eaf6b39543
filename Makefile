# make run    build minicloud and run the cloud on embedded defaults with the test guest
#             uploaded as the image minicloud-guest (examples/run.sh; ARGS= passes serve flags)
# make test   the whole test suite (.ci/test)
# make build  just the binary

.PHONY: build run test

build:
	go build -o minicloud .

run:
	bash examples/run.sh $(ARGS)

test:
	bash .ci/test
