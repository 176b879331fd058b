#!/usr/bin/env python3
"""A Modbus slave for the tests and the door benchmark, on Debian's pymodbus.

It serves one or more units (boards) on one RTU serial port (a socat pty)
or on a Modbus TCP port, each with 64 coils, discrete inputs, holding
registers and input registers from address 0. It is driven over stdin and
reports over stdout, one JSON object a line:

  in   {"set": "di", "unit": 1, "address": 0, "value": 1}   change an input
       {"silent": [1]}       units that stop answering ([] answers again)
       {"corrupt": 1}        damage the CRC of the next answer(s)
  out  {"ready": true}       serving
       {"write": "co", "unit": 1, "address": 0, "values": [1], "at": 1733.2}
                             a master wrote coils or registers; "at" is
                             time.monotonic() in seconds

--wire-baud N acts on each request only after the time it would take to
arrive on an RS-485 pair at N baud, and holds its answer back for the
answer's own time on the pair (a pty carries bytes at once), so that
latency measured over a pty is what a real bus would show.
"""
import argparse
import asyncio
import json
import sys
import threading
import time

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.exceptions import NoSuchSlaveException
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.framer.socket_framer import ModbusSocketFramer
from pymodbus.server.async_io import ModbusSerialServer, ModbusTcpServer

SIZE = 64
# Reads and writes of one coil or register are 8 bytes long in RTU.
REQUEST_BYTES = 8
out_lock = threading.Lock()


def emit(message):
    with out_lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


class Block(ModbusSequentialDataBlock):
    """A data block that reports what masters write to it."""

    def __init__(self, table, unit):
        super().__init__(0, [0] * SIZE)
        self.table = table
        self.unit = unit
        self.reporting = False

    def setValues(self, address, values):  # noqa: N802 (pymodbus's name)
        if not isinstance(values, list):
            values = [values]
        super().setValues(address, values)
        if self.reporting:
            emit({"write": self.table, "unit": self.unit, "address": address,
                  "values": [int(value) for value in values], "at": time.monotonic()})


class Context(ModbusServerContext):
    """Units that are silenced are not there: pymodbus then sends nothing."""

    def __init__(self, units):
        self.blocks = {}
        slaves = {}
        for unit in units:
            blocks = {table: Block(table, unit) for table in ("di", "co", "hr", "ir")}
            for block in blocks.values():
                block.reporting = block.table in ("co", "hr")
            self.blocks[unit] = blocks
            slaves[unit] = ModbusSlaveContext(zero_mode=True, **blocks)
        super().__init__(slaves=slaves, single=False)
        self.silent = set()
        self.wire_baud = 0

    def __getitem__(self, slave):
        if slave in self.silent:
            raise NoSuchSlaveException(f"unit {slave} is silent")
        if self.wire_baud:
            time.sleep(REQUEST_BYTES * 10 / self.wire_baud)
        return super().__getitem__(slave)

    def slaves(self):
        return [unit for unit in super().slaves() if unit not in self.silent]


class Answers:
    """Damages answers on request, and holds them back for their time on the wire."""

    def __init__(self, framer, wire_baud):
        self.framer = framer
        self.wire_baud = wire_baud
        self.corrupt = 0

    def __call__(self, response):
        if not self.corrupt and not self.wire_baud:
            return response, False
        packet = bytearray(self.framer.buildPacket(response))
        if self.wire_baud:
            time.sleep(len(packet) * 10 / self.wire_baud)
        if self.corrupt:
            self.corrupt -= 1
            packet[-1] ^= 0x5A
        return bytes(packet), True


def control(loop, context, answers):
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        command = json.loads(line)

        def apply(command=command):
            if "set" in command:
                block = context.blocks[command["unit"]][command["set"]]
                reporting, block.reporting = block.reporting, False
                block.setValues(command["address"], [command["value"]])
                block.reporting = reporting
            if "silent" in command:
                context.silent = set(command["silent"])
            if "corrupt" in command:
                answers.corrupt = command["corrupt"]
            emit({"done": command})

        loop.call_soon_threadsafe(apply)
    loop.call_soon_threadsafe(loop.stop)


async def main():
    parser = argparse.ArgumentParser()
    link = parser.add_mutually_exclusive_group(required=True)
    link.add_argument("--rtu", help="serial device (one end of a socat pty pair)")
    link.add_argument("--tcp", type=int, help="TCP port on 127.0.0.1")
    parser.add_argument("--units", default="1", help="unit ids, comma-separated")
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument("--wire-baud", type=int, default=0)
    args = parser.parse_args()

    context = Context([int(unit) for unit in args.units.split(",")])
    context.wire_baud = args.wire_baud
    loop = asyncio.get_running_loop()
    if args.rtu:
        answers = Answers(ModbusRtuFramer(None), args.wire_baud)
        server = ModbusSerialServer(
            context, ModbusRtuFramer, port=args.rtu, baudrate=args.baud,
            ignore_missing_slaves=True, response_manipulator=answers,
        )
        await server.start()
    else:
        answers = Answers(ModbusSocketFramer(None), args.wire_baud)
        server = ModbusTcpServer(
            context, ModbusSocketFramer, address=("127.0.0.1", args.tcp),
            allow_reuse_address=True, ignore_missing_slaves=True, response_manipulator=answers,
        )
        asyncio.ensure_future(server.serve_forever())
        await asyncio.sleep(0.05)
    threading.Thread(target=control, args=(loop, context, answers), daemon=True).start()
    emit({"ready": True})
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except (KeyboardInterrupt, RuntimeError):
        pass
