// Stylesheets are imported for their effect: vite bundles them into the build.
declare module '*.css';
