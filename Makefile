# The two commands a new user needs are in README.md; this file only gathers
# the developer's chores.
.PHONY: test generate run

# The whole test suite. Set GOVLOG_TEST_MYSQL_DSN to run the MariaDB tests too
# (.ci/run does).
test:
	go test -race ./...

generate:
	go generate ./api

run:
	go run ./cmd/govlog dev --data /tmp/govlog-dev
