// SPDX-License-Identifier: MIT
// Must not compile: a capture larger than the closure's slot is a compile-time error, never a heap
// allocation. With -DCOURIER_FITS the same code uses a larger slot and must compile, which shows the failure
// comes from the size alone.
#include <courier/closure.h>

#include <array>

#ifdef COURIER_FITS
constexpr std::size_t slot = 128;
#else
constexpr std::size_t slot = 16;
#endif

int main()
{
    std::array<char, 64> captured{};
    courier::closure<int(), slot> c([captured] { return static_cast<int>(captured[0]); });
    return c();
}
