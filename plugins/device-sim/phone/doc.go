// Package phone is a simulated Android phone that behaves like a real one
// at the shell level, for tests and for running cloudphone with no phone,
// emulator or GPU. It is transport-independent: an adbd implementation
// (sdk/adb) serves `shell:`/`exec:` streams by calling [Phone.Exec] and
// `sync:` by using [Phone.FS]; plugins/device-sim wires the two together.
//
// # The phone
//
// [New] returns a booted phone at its launcher. [Options] set the serial,
// screen size (default 1080×2400 at 440 dpi), model, a clock (frozen by
// default so screenshots are deterministic), a latency [Profile] and
// [Faults]. A phone holds only its state (a few tens of KiB): screens are
// element trees built on demand and rendered only when asked for.
//
//	p := phone.New(phone.Options{Serial: "sim-1"})
//	code := p.Exec(ctx, "input tap 540 1200", nil, stdout, stderr)
//	st := p.State() // JSON-serialisable: current app, chats, carts, settings...
//
// Besides Exec, a transport or a test can call the phone directly:
// [Phone.Run] (Exec with the reason for an abnormal end), [Phone.Shell]
// (an interactive session with a prompt), [Phone.FS] (Stat, List, ReadFile,
// WriteFile, Remove, MkdirAll, SetModTime for adb sync), [Phone.Banner]
// (the CNXN banner properties), [Phone.State], [Phone.UI] and
// [Phone.DumpXML] (the element tree), [Phone.Screenshot] and [Phone.Image],
// [Phone.Reboot] and [Phone.InjectFault].
//
// # The world
//
// The launcher (com.android.launcher3) shows 微信, 淘宝, 美团, 高德地图,
// 设置 and 浏览器 with their real package names; app labels are Chinese,
// with English names as content-desc. Each app has several screens with
// element trees (class, text, resource-id, content-desc, bounds, clickable,
// checked, focused, scrollable...) laid out in proportional coordinates, a
// per-app back stack (tasks survive HOME and relaunch, as on Android), a
// recents overview, focus and a soft keyboard (QWERTY LatinIME, or the ADB
// Keyboard's bar), and state that actions change:
//
//   - 设置: WLAN, 蓝牙 and 飞行模式 switches (airplane mode turns the radios
//     off), 显示与亮度 with a brightness slider and steps, 关于手机. Switches
//     and `settings get|put` share one settings table.
//   - 微信: chats, contacts, discover and me tabs; a chat with an EditText,
//     发送 (shown once text is typed) appending the message; search.
//   - 美团: search (any query has results; 咖啡, 奶茶, 火锅... hit a fixed
//     catalogue), shop pages with 加入购物车, checkout and 提交订单; orders.
//   - 淘宝: search, results, product page with 加入购物车 (the cart count
//     grows) and 立即购买, the cart tab, checkout and orders.
//   - 高德地图: search, results, place card, routes by mode, navigation.
//   - 浏览器: address bar and a result page.
//
// # Commands
//
// Exec understands the part of mksh adb users type (quotes, backslashes,
// $VAR and $?, ; && || pipes, > >> < 2> 2>&1) and these commands, with
// Android's output formats where tools parse them: screencap -p [FILE],
// uiautomator dump [FILE|/dev/tty], dumpsys window|activity|input_method|
// battery|power|display, input tap|swipe|text|keyevent (numbers and
// KEYCODE_ names), monkey -p PKG … 1, am start|force-stop|broadcast,
// settings get|put|delete|list, ime list|set|enable|disable|reset, svc, wm
// size|density, getprop, pm list packages|path, echo, ls, cat, rm, mkdir,
// touch, grep, sleep, date, id, whoami, sh -c, true, false, and
// cloudphone-state (the [State] as JSON). Anything else answers
// "/system/bin/sh: X: not found" with exit status 127.
//
// Text entry follows the real constraints: `input text` types ASCII only
// (%s is a space); Chinese goes through the ADB Keyboard broadcasts
// (ADB_INPUT_TEXT, ADB_INPUT_B64, ADB_INPUT_CHARS, ADB_CLEAR_TEXT,
// ADB_INPUT_CODE, ADB_EDITOR_CODE), which are delivered only while
// `settings get secure default_input_method` is
// com.android.adbkeyboard/.AdbIME and a text field has focus; otherwise the
// broadcast reaches nobody and still prints "Broadcast completed: result=0".
// The default IME is LatinIME, so clients must `ime set` the ADB Keyboard
// first, as Open-AutoGLM does.
//
// # Screenshots
//
// [Phone.Screenshot] renders the status bar, the app window, the
// navigation bar, the keyboard and toasts, and encodes an RGB PNG. Fonts
// come from package render (a CJK font from disk, with visible placeholder
// boxes when none exists). PNGs are cached by screen version in one
// process-wide LRU of [ScreenshotCacheBytes], so idle phones hold no frames.
//
// # Latency and faults
//
// [Instant] has no delays; [RealPhone] ("phone") waits about 150 ms per
// screencap, 20 ms per input, 100 ms per dump and 5 ms otherwise, inside
// Exec and cut short by the context. [Faults] stall a command until its
// context ends, drop the connection ([Phone.Run] returns
// [ErrDropConnection]; [Phone.Exec] returns [ExitDropped]) or reboot the
// phone (state reset, sys.boot_completed unset for Faults.RebootFor), by
// seeded probability, by rules matching command lines, or on demand with
// [Phone.InjectFault].
//
// # Concurrency
//
// All methods are safe for concurrent use. Commands hold the phone's mutex
// only while they read or change state; rendering draws a snapshot after
// releasing it.
//
// What this package is not: the adb wire protocol (sdk/adb), the plugin
// process and its ports (plugins/device-sim), or an Android emulator.
package phone
