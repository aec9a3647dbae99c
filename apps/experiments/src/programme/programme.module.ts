import { Module } from '@nestjs/common';
import { ExperimentsModule } from '../experiments/experiments.module';
import { ProgrammeController } from './programme.controller';
import { ProgrammeService } from './programme.service';

/** The programme holdout and the programme's lift (issue 22), on top of experiments. */
@Module({
  imports: [ExperimentsModule],
  controllers: [ProgrammeController],
  providers: [ProgrammeService],
})
export class ProgrammeModule {}
