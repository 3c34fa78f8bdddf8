// Command goimage prints a BuildKit named build context that supplies the
// examples' Go build stage without Docker Hub:
//
//	dplug build --build-context "$(go run ./internal/testenv/cmd/goimage)" -t example-volume examples/volume
//
// The value is golang:1.26=oci-layout://DIR@sha256:..., an OCI layout made
// once from this machine's Go toolchain and busybox-static and cached (see
// testenv.GoImage). With -push REF it pushes that image to a registry
// instead and prints REF: for a Docker Engine's BuildKit that takes no named
// contexts (20.10), as --build-arg GO_IMAGE=REF. Progress and errors go to
// stderr.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/dplug/dplug/internal/testenv"
)

func main() {
	push := flag.String("push", "", "push the image to this registry `REF` and print it")
	flag.Parse()
	fmt.Fprintln(os.Stderr, "goimage: making or reusing the Go toolchain image under", testenv.GoImageCacheDir())
	img, err := testenv.MakeGoImage(testenv.GoImageCacheDir())
	if err == nil && *push != "" {
		err = testenv.PushRef(img.Image, *push)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "goimage:", err)
		os.Exit(1)
	}
	if *push != "" {
		fmt.Println(*push)
		return
	}
	fmt.Printf("%s=%s\n", testenv.GoImageName, img.BuildContext())
}
