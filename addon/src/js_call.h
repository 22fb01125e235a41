// Calls into JavaScript from where no JavaScript frame can catch what it throws: a libuv poll
// callback or an async work's completion. With NAPI_CPP_EXCEPTIONS a JavaScript exception there
// becomes a C++ exception that terminates the process (or, through AsyncWorker, a fatal
// exception). TypeScript guards every callback it hands over (src/native/callback-guard.ts);
// this is the second line: the exception goes to stderr and is dropped.
#pragma once
#include <napi.h>

#include <cstdio>
#include <exception>

namespace netctl {

template <typename Call>
void CallJavaScript(const char* what, Call&& call) noexcept {
  try {
    call();
  } catch (const Napi::Error& error) {
    std::fprintf(stderr, "netctl addon: %s threw, ignored: %s\n", what, error.what());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "netctl addon: %s failed, ignored: %s\n", what, error.what());
  }
}

}  // namespace netctl
