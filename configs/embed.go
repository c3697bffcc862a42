// Package configs holds the configuration files shipped with edge-agent;
// the demo's is embedded in the binary.
package configs

import _ "embed"

// Demo is the simulated store's configuration (demo.yaml).
//
//go:embed demo.yaml
var Demo []byte

// Example is the annotated store configuration (store.example.yaml).
//
//go:embed store.example.yaml
var Example []byte
