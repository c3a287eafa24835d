package phone_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"

	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
)

// An agent step on a simulated phone: launch an app, ask which app is in
// front, type Chinese through the ADB Keyboard and check the result in the
// state dump.
func Example() {
	ctx := context.Background()
	p := phone.New(phone.Options{Serial: "sim-1"})
	sh := func(cmd string) { p.Exec(ctx, cmd, nil, os.Stdout, os.Stderr) }
	quiet := func(cmd string) { p.Exec(ctx, cmd, nil, io.Discard, io.Discard) }

	sh("wm size")
	quiet("monkey -p com.tencent.mm -c android.intent.category.LAUNCHER 1")
	sh("dumpsys window | grep mCurrentFocus")

	quiet("input tap 300 560")  // the chat with 张三
	quiet("input tap 500 2180") // its input field
	quiet("ime set com.android.adbkeyboard/.AdbIME")
	quiet("am broadcast -a ADB_INPUT_B64 --es msg " + base64.StdEncoding.EncodeToString([]byte("你好")))
	st := p.State()
	fmt.Println(st.CurrentAppName, st.ScreenArg, st.Keyboard.Text)
	// Output:
	// Physical size: 1080x2400
	//   mCurrentFocus=Window{33990ba u0 com.tencent.mm/com.tencent.mm.ui.LauncherUI}
	// 微信 张三 你好
}
