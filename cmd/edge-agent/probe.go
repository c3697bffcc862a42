package main

import "github.com/spf13/cobra"

func newProbeCmd() *cobra.Command { return &cobra.Command{Use: "probe"} }
