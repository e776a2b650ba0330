module jamey.io/audit/tools/ct-vectors

go 1.22

require github.com/transparency-dev/merkle v0.0.2
