"""Device identity (keyed hashes of IMEIs and serial numbers), passports and data wiping."""
