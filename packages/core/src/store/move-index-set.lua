-- Moves one participant index set to the name it has under the sealing key: its members join
-- those already there, and the set keeps the longer of the two lifetimes (its events outlive
-- neither). A set added to meanwhile loses nothing: the move is one step.
-- KEYS: the set under its old name, the set under the sealing key's name
-- Returns how many members the set under the new name holds.
local lifetime = math.max(redis.call('PTTL', KEYS[1]), redis.call('PTTL', KEYS[2]))
local size = redis.call('SUNIONSTORE', KEYS[2], KEYS[2], KEYS[1])
redis.call('DEL', KEYS[1])
if lifetime > 0 then redis.call('PEXPIRE', KEYS[2], lifetime) end
return size
