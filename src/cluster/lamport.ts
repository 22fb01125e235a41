// A Lamport clock: orders the events of the network tables across members without synchronized
// time. Each local event ticks it; each event heard moves it past the time it carries.

export class LamportClock {
  private time = 0;

  get now(): number {
    return this.time;
  }

  tick(): number {
    return ++this.time;
  }

  witness(time: number): void {
    if (time >= this.time) this.time = time + 1;
  }
}
