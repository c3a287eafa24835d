package phone

import (
	"fmt"
	"hash/fnv"
	"strings"
)

func hash7(s string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return fmt.Sprintf("%07x", h.Sum32()&0xfffffff)
}

func taskID(pkg string) int {
	for i, a := range launcherApps {
		if a.pkg == pkg {
			return 12 + i
		}
	}
	return 1
}

// component returns the full and the short form of the foreground
// activity: "com.tencent.mm/com.tencent.mm.ui.LauncherUI" and
// "com.tencent.mm/.ui.LauncherUI". Called with p.mu held.
func (w *world) component() (pkg, full, short string) {
	pkg, act := w.activity()
	cls := act
	if strings.HasPrefix(act, ".") {
		cls = pkg + act
	}
	return pkg, pkg + "/" + cls, pkg + "/" + act
}

func (w *world) activityRecord() string {
	pkg, _, short := w.component()
	return fmt.Sprintf("ActivityRecord{%s u0 %s t%d}", hash7("ar"+short), short, taskID(pkg))
}

func cmdDumpsys(sh *shell, args []string, io stdio) int {
	p := sh.p
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.w
	svc := ""
	if len(args) > 0 {
		svc = args[0]
	}
	_, full, _ := w.component()
	focus := fmt.Sprintf("Window{%s u0 %s}", hash7("win"+full), full)
	switch svc {
	case "window", "":
		sub := ""
		if len(args) > 1 {
			sub = args[1]
		}
		if sub == "" || sub == "windows" || sub == "-a" {
			fmt.Fprintln(io.out, "WINDOW MANAGER WINDOWS (dumpsys window windows)")
			fmt.Fprintf(io.out, "  Window #0 Window{%s u0 NavigationBar0}:\n    mDisplayId=0 rootTaskId=1 mSession=Session{4b1c2d3 1234:u0a10071} mClient=android.os.BinderProxy@9a8b7c6\n    mOwnerUid=10071 showForAllUsers=true package=com.android.systemui appop=NONE\n", hash7("nav"))
			fmt.Fprintf(io.out, "  Window #1 Window{%s u0 StatusBar}:\n    mDisplayId=0 rootTaskId=1 mOwnerUid=10071 package=com.android.systemui appop=NONE\n", hash7("status"))
			n := 2
			if w.kbShown && w.cur().focus != "" {
				fmt.Fprintf(io.out, "  Window #%d Window{%s u0 InputMethod}:\n    mDisplayId=0 rootTaskId=1 package=%s appop=NONE\n", n, hash7("ime"), strings.Split(w.get("secure", "default_input_method"), "/")[0])
				n++
			}
			fmt.Fprintf(io.out, "  Window #%d %s:\n    mDisplayId=0 rootTaskId=%d mOwnerUid=10123 package=%s appop=NONE\n    mViewVisibility=0x0 mHaveFrame=true mObscured=false\n", n, focus, taskID(w.curPkg()), w.curPkg())
			fmt.Fprintln(io.out)
			fmt.Fprintf(io.out, "  mGlobalConfiguration={1.0 ?mcc?mnc [zh_CN] ldltr sw%ddp w%ddp h%ddp %ddpi nrml long port finger -keyb/v/h -nav/h winConfig={ mBounds=Rect(0, 0 - %d, %d) mAppBounds=Rect(0, 0 - %d, %d) mWindowingMode=fullscreen mDisplayWindowingMode=fullscreen mActivityType=undefined mAlwaysOnTop=undefined mRotation=ROTATION_0} s.1}\n",
				p.opts.Width*160/p.opts.Density, p.opts.Width*160/p.opts.Density, p.opts.Height*160/p.opts.Density, p.opts.Density,
				p.opts.Width, p.opts.Height, p.opts.Width, p.opts.Height)
			fmt.Fprintln(io.out, "  mHasPermanentDpad=false")
			fmt.Fprintln(io.out, "  mTopFocusedDisplayId=0")
			if w.kbShown && w.cur().focus != "" {
				fmt.Fprintf(io.out, "  mInputMethodTarget in display# 0 %s\n", focus)
				fmt.Fprintf(io.out, "  mInputMethodWindow=Window{%s u0 InputMethod}\n", hash7("ime"))
			}
		}
		if sub == "" || sub == "windows" || sub == "-a" || sub == "displays" {
			fmt.Fprintf(io.out, "  mCurrentFocus=%s\n", focus)
			fmt.Fprintf(io.out, "  mFocusedApp=AppWindowToken{%s token=Token{%s %s}}\n", hash7("awt"+full), hash7("tok"+full), w.activityRecord())
		}
		if sub == "" || sub == "displays" {
			fmt.Fprintf(io.out, "  mScreenOnEarly=%t mScreenOnFully=%t\n", w.awake, w.awake)
			fmt.Fprintf(io.out, "  init=%dx%d %ddpi cur=%dx%d app=%dx%d rng=%dx%d-%dx%d\n", p.opts.Width, p.opts.Height, p.opts.Density,
				p.opts.Width, p.opts.Height, p.opts.Width, p.opts.Height, p.opts.Width, p.opts.Width, p.opts.Height, p.opts.Height)
		}
	case "activity":
		fmt.Fprintln(io.out, "ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)")
		fmt.Fprintln(io.out, "Display #0 (activities from top to bottom):")
		fmt.Fprintf(io.out, "  * Task{%s #%d type=standard A=10123:%s U=0 visible=true mode=fullscreen translucent=false sz=%d}\n",
			hash7("task"+w.curPkg()), taskID(w.curPkg()), w.curPkg(), max(len(w.tasks[w.fg]), 1))
		fmt.Fprintf(io.out, "  mResumedActivity: %s\n", w.activityRecord())
		fmt.Fprintf(io.out, "  ResumedActivity: %s\n", w.activityRecord())
		fmt.Fprintf(io.out, "  mFocusedApp=%s\n", w.activityRecord())
	case "input_method":
		fmt.Fprintf(io.out, "Current Input Method Manager state:\n  mCurMethodId=%s\n  mCurFocusedWindow=%s\n  mInputShown=%t\n  mServedInputConnection=%t\n",
			w.get("secure", "default_input_method"), focus, w.kbShown && w.cur().focus != "", w.cur().focus != "")
	case "battery":
		fmt.Fprint(io.out, "Current Battery Service state:\n  AC powered: false\n  USB powered: true\n  Wireless powered: false\n  Dock powered: false\n  Max charging current: 500000\n  Max charging voltage: 5000000\n  Charge counter: 4017000\n  status: 2\n  health: 2\n  present: true\n  level: 85\n  scale: 100\n  voltage: 4215\n  temperature: 280\n  technology: Li-ion\n")
	case "power":
		wake, state := "Awake", "ON"
		if !w.awake {
			wake, state = "Asleep", "OFF"
		}
		fmt.Fprintf(io.out, "POWER MANAGER (dumpsys power)\n\nPower Manager State:\n  mDirty=0x0\n  mWakefulness=%s\n  mWakefulnessChanging=false\n  mIsPowered=true\n  mPlugType=2\n  mStayOn=true\n  mBootCompleted=%t\n  mSystemReady=true\n  mHoldingWakeLockSuspendBlocker=%t\n  mHoldingDisplaySuspendBlocker=%t\n\nDisplay Power: state=%s\n",
			wake, !p.booting(), w.awake, w.awake, state)
	case "display":
		state := "ON"
		if !w.awake {
			state = "OFF"
		}
		fmt.Fprintf(io.out, "DISPLAY MANAGER (dumpsys display)\n  mScreenState=%s\n  mDefaultViewport=DisplayViewport{valid=true, displayId=0, orientation=0, logicalFrame=Rect(0, 0 - %d, %d), deviceWidth=%d, deviceHeight=%d}\n",
			state, p.opts.Width, p.opts.Height, p.opts.Width, p.opts.Height)
	case "-l":
		for _, s := range []string{"activity", "battery", "display", "input_method", "package", "power", "window"} {
			fmt.Fprintln(io.out, "  "+s)
		}
	default:
		fmt.Fprintf(io.err, "Can't find service: %s\n", svc)
	}
	return 0
}
