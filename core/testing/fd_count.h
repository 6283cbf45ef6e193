// File: core/testing/fd_count.h
//
// fd_count: how many descriptors this process has open (/proc/self/fd, the
// directory's own included). Tests take it before and after, to show that
// nothing they opened was left behind. Linux only.

#ifndef SLUICE_CORE_TESTING_FD_COUNT_H_
#define SLUICE_CORE_TESTING_FD_COUNT_H_

#include <dirent.h>

namespace sluice::testing {

inline int fd_count() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr) ++n;
    ::closedir(d);
  }
  return n;
}

}  // namespace sluice::testing

#endif  // SLUICE_CORE_TESTING_FD_COUNT_H_
