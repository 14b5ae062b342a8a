// The popup's states (not configured, not paired, pairing, paired) arrive with issue #5.
export {};
