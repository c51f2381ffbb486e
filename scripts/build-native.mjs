// Placeholder until the Rust addon lands: the TypeScript fallbacks are used.
console.log('native addon: not built (no crates yet)');
