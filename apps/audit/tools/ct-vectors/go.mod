module jamey.io/audit/tools/ct-vectors

go 1.26.0

require github.com/transparency-dev/merkle v0.0.2

require golang.org/x/mod v0.42.0
