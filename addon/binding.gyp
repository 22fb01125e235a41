{
  "targets": [
    {
      "target_name": "netctl_native",
      "sources": ["src/main.cc", "src/errno_error.cc", "src/netlink_socket.cc", "src/netns.cc", "src/udp_batch.cc", "src/poll_watch.cc", "src/spawn.cc", "src/process_watch.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "netctl-shim",
      "type": "executable",
      "sources": ["shim/netctl-shim.c", "shim/root.c", "shim/confine.c", "shim/console.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-lseccomp"]
    }
  ]
}
