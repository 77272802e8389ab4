// Placeholder entry; the graph view lands next.
export {};
