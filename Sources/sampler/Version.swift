/// sampler's version: the one place it is declared. `sampler --version`, the status
/// report and the metrics read it; scripts/package-deb reads this line for the Debian
/// package's version, so keep it a plain string literal on one line.
let samplerVersion = "0.1.0"
