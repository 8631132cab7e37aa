"""The pure domain core: status rules, validation, rendering inputs. No I/O, no clock reads."""
