"""The use cases, one module per capability. Platform-free: they speak Actor, ChannelRef, Reply."""
