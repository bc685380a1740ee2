# Sourced by scripts/_venv.sh: can Qt start here? Finds every missing system library in one pass
# and prints the one command that installs them all. Never installs anything itself.
#
# qt_libs_check PYTHON PLATFORM... checks PySide6's modules used by the program and the given
# Qt platform plugins (offscreen for the tests, xcb or wayland for a real window), then starts
# a QApplication on the first platform to catch what ldd cannot see (fonts, the display).

# Missing shared library → Debian/Ubuntu package. The same list is in README ("Quick start").
_QT_DEBIAN_PACKAGES="
libEGL.so.1 libegl1
libGL.so.1 libgl1
libOpenGL.so.0 libopengl0
libxkbcommon.so.0 libxkbcommon0
libfontconfig.so.1 libfontconfig1
libfreetype.so.6 libfreetype6
libglib-2.0.so.0 libglib2.0-0
libgthread-2.0.so.0 libglib2.0-0
libgobject-2.0.so.0 libglib2.0-0
libgio-2.0.so.0 libglib2.0-0
libdbus-1.so.3 libdbus-1-3
libX11.so.6 libx11-6
libX11-xcb.so.1 libx11-xcb1
libxcb.so.1 libxcb1
libxcb-cursor.so.0 libxcb-cursor0
libxcb-icccm.so.4 libxcb-icccm4
libxcb-image.so.0 libxcb-image0
libxcb-keysyms.so.1 libxcb-keysyms1
libxcb-randr.so.0 libxcb-randr0
libxcb-render-util.so.0 libxcb-render-util0
libxcb-render.so.0 libxcb-render0
libxcb-shape.so.0 libxcb-shape0
libxcb-shm.so.0 libxcb-shm0
libxcb-sync.so.1 libxcb-sync1
libxcb-util.so.1 libxcb-util1
libxcb-xfixes.so.0 libxcb-xfixes0
libxcb-xkb.so.1 libxcb-xkb1
libxkbcommon-x11.so.0 libxkbcommon-x11-0
libwayland-client.so.0 libwayland-client0
libwayland-cursor.so.0 libwayland-cursor0
libwayland-egl.so.1 libwayland-egl1
"

_qt_say() { echo "$*" >&2; }

# The Qt platform plugins the desktop will use in this session: QT_QPA_PLATFORM when set,
# else the display the session has (Wayland first, as Qt does; X11 is its fallback).
qt_real_platforms() {
  if [ -n "${QT_QPA_PLATFORM:-}" ]; then
    echo "${QT_QPA_PLATFORM%%:*}"
  elif [ "$(uname -s)" != Linux ]; then
    echo native
  elif [ -n "${WAYLAND_DISPLAY:-}" ]; then
    echo wayland ${DISPLAY:+xcb}
  elif [ -n "${DISPLAY:-}" ]; then
    echo xcb
  fi
}

qt_libs_check() {
  local python="$1"; shift
  local platforms=("$@") pyside missing packages=() unknown=() so pkg platform files=() out
  # Windows and macOS wheels carry their own libraries; only Linux needs system ones.
  if [ "$(uname -s)" = Linux ] && command -v ldd >/dev/null 2>&1; then
    pyside="$("$python" -c 'import importlib.util as u; print(u.find_spec("PySide6").submodule_search_locations[0])')"
    for so in QtCore QtGui QtWidgets QtCharts QtSvg; do files+=("$pyside/$so.abi3.so"); done
    for platform in "${platforms[@]}"; do
      [ -f "$pyside/Qt/plugins/platforms/libq$platform.so" ] \
        && files+=("$pyside/Qt/plugins/platforms/libq$platform.so")
    done
    missing="$(ldd "${files[@]}" 2>/dev/null | awk '/=> not found/ {print $1}' | sort -u)"
    if [ -n "$missing" ]; then
      for so in $missing; do
        pkg="$(awk -v so="$so" '$1 == so {print $2}' <<<"$_QT_DEBIAN_PACKAGES")"
        if [ -n "$pkg" ]; then
          [[ " ${packages[*]} " == *" $pkg "* ]] || packages+=("$pkg")
        else
          unknown+=("$so")
        fi
      done
      if command -v apt-get >/dev/null 2>&1; then
        _qt_say "Qt cannot start (${platforms[*]}): install the system libraries it needs with:" \
          "sudo apt-get install ${packages[*]}${unknown[*]:+ (and a package with ${unknown[*]})}" \
          "(missing: $(echo $missing))"
      else
        _qt_say "Qt cannot start (${platforms[*]}): system libraries missing: $(echo $missing)." \
          "Install the packages that provide them (README, \"Quick start\", lists them per system)."
      fi
      return 1
    fi
  fi
  # ldd sees no gap: start Qt for real (fonts, the display connection) on the platform used.
  platform="${platforms[0]:-}"
  [ "$platform" = native ] && platform=""
  if ! out="$(QT_QPA_PLATFORM="$platform" "$python" - 2>&1 <<'EOF'
import sys
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication
app = QApplication([])
if not QFontDatabase.families():
    sys.exit("no fonts found (Debian/Ubuntu: sudo apt-get install fonts-dejavu-core)")
EOF
  )"; then
    _qt_say "Qt cannot start (${platform:-default platform}): $(tail -n 2 <<<"$out" | tr '\n' ' ')"
    return 1
  fi
}
