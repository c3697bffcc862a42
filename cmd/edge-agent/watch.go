package main

import "github.com/spf13/cobra"

func newWatchCmd() *cobra.Command { return &cobra.Command{Use: "watch"} }
