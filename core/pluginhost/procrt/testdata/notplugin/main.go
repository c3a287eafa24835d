// Command notplugin is an ordinary program, not a plugin: it prints a line
// to stdout and exits, as a host must be able to reject it quickly.
package main

import "fmt"

func main() {
	fmt.Println("hello, I am not a plugin")
}
