// SPDX-License-Identifier: MIT
// A deliberate data race: two threads bump a plain counter. The ThreadSanitizer build must report it; the
// ctest that runs this program passes only on TSan's report, so it proves the TSan build is able to fail.
#include <cstdio>
#include <thread>

namespace {
long shared_counter = 0;  // deliberately not atomic

void bump_many() noexcept
{
    for (int i = 0; i < 100000; ++i)
        shared_counter = shared_counter + 1;
}
}  // namespace

int main()
{
    std::thread a(bump_many);
    std::thread b(bump_many);
    a.join();
    b.join();
    std::printf("probe finished without a ThreadSanitizer report (counter %ld)\n", shared_counter);
    return 1;
}
