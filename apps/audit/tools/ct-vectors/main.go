// Command ct-vectors prints Merkle tree test vectors as JSON for Jamey's audit tests:
// the published RFC 6962 / Certificate Transparency vectors that ship in
// github.com/transparency-dev/merkle's testonly package, and reference inclusion and
// consistency proofs computed by that package for trees of up to -max leaves.
//
// With -verify-note it instead checks a signed note (C2SP signed-note, as the Go checksum
// database uses) read from stdin with golang.org/x/mod/sumdb/note; with -sign-note it signs
// stdin's text with a fresh Ed25519 key and prints the verifier key and the note.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/sumdb/note"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

type inclusion struct {
	Index uint64   `json:"index"`
	Size  uint64   `json:"size"`
	Proof []string `json:"proof"`
}

type consistency struct {
	Size1 uint64   `json:"size1"`
	Size2 uint64   `json:"size2"`
	Proof []string `json:"proof"`
}

type output struct {
	// The published vectors: leaf inputs and the root of every prefix of them.
	LeafInputs []string   `json:"leafInputs"`
	RootHashes []string   `json:"rootHashes"`
	NodeHashes [][]string `json:"nodeHashes"`
	// Reference proofs over the tree whose leaf i is the UTF-8 bytes of "leaf-<i>".
	Max         uint64        `json:"max"`
	Roots       []string      `json:"roots"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
}

func hexAll(values [][]byte) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = hex.EncodeToString(v)
	}
	return out
}

func main() {
	max := flag.Uint64("max", 33, "largest reference tree size")
	verifyNote := flag.String("verify-note", "", "verifier key: verify the signed note on stdin")
	signNote := flag.String("sign-note", "", "key name: sign the text on stdin with a new key")
	flag.Parse()
	if *verifyNote != "" || *signNote != "" {
		input, err := io.ReadAll(os.Stdin)
		must(err)
		if *verifyNote != "" {
			verifier, err := note.NewVerifier(*verifyNote)
			must(err)
			opened, err := note.Open(input, note.VerifierList(verifier))
			must(err)
			fmt.Print(opened.Text)
			return
		}
		skey, vkey, err := note.GenerateKey(rand.Reader, *signNote)
		must(err)
		signer, err := note.NewSigner(skey)
		must(err)
		signed, err := note.Sign(&note.Note{Text: string(input)}, signer)
		must(err)
		must(json.NewEncoder(os.Stdout).Encode(map[string]string{"verifierKey": vkey, "note": string(signed)}))
		return
	}
	hasher := rfc6962.DefaultHasher
	out := output{
		LeafInputs: hexAll(testonly.LeafInputs()),
		RootHashes: hexAll(testonly.RootHashes()),
		Max:        *max,
	}
	for _, level := range testonly.NodeHashes() {
		out.NodeHashes = append(out.NodeHashes, hexAll(level))
	}
	tree := testonly.New(hasher)
	for i := uint64(0); i < *max; i++ {
		tree.AppendData([]byte(fmt.Sprintf("leaf-%d", i)))
	}
	out.Roots = append(out.Roots, hex.EncodeToString(hasher.EmptyRoot()))
	for size := uint64(1); size <= *max; size++ {
		root := tree.HashAt(size)
		out.Roots = append(out.Roots, hex.EncodeToString(root))
		for index := uint64(0); index < size; index++ {
			p, err := tree.InclusionProof(index, size)
			must(err)
			// The reference's own verifier must accept what it generated.
			must(proof.VerifyInclusion(hasher, index, size, tree.LeafHash(index), p, root))
			out.Inclusion = append(out.Inclusion, inclusion{Index: index, Size: size, Proof: hexAll(p)})
		}
		for size1 := uint64(1); size1 <= size; size1++ {
			p, err := tree.ConsistencyProof(size1, size)
			must(err)
			must(proof.VerifyConsistency(hasher, size1, size, p, tree.HashAt(size1), root))
			out.Consistency = append(out.Consistency, consistency{Size1: size1, Size2: size, Proof: hexAll(p)})
		}
	}
	must(json.NewEncoder(os.Stdout).Encode(out))
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "ct-vectors:", err)
		os.Exit(1)
	}
}
